//! The real `soloist` binary on data directories of its own: boot, stop,
//! restart, crashes, a second instance, root, migrations from several
//! processes at once.

mod as_root;
mod boot;
mod db_commands;
mod restarts;
