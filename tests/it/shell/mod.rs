//! The shell every page shares: the stylesheet's colours and states, the
//! navigation that says where you are, long forms and their summaries, and
//! the confirmation step before actions that can't be undone.

mod stylesheet;
