//! The template cluster embedded by `build.rs`: what initdb makes with the
//! bundled programs and Soloist's settings, plus the empty `soloist`
//! database. A first boot unpacks it instead of running initdb (most of
//! whose time is building the catalogs), then gives the copy an identity of
//! its own: a new system identifier here, and a new superuser password.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path};

use super::PostgresError;

/// The compressed tar of the template cluster; empty when the build could
/// not make one.
static TEMPLATE: &[u8] = include_bytes!(env!("SOLOIST_PG_TEMPLATE_PATH"));

/// Where `pg_control` keeps the system identifier (the first field).
const SYSTEM_ID_AT: usize = 0;
/// Where a WAL segment's first page keeps it (`xlp_sysid` of the long page
/// header, after the 24-byte short header).
const WAL_SYSTEM_ID_AT: usize = 24;
/// `XLP_LONG_HEADER` in `xlp_info`.
const XLP_LONG_HEADER: u16 = 0x0002;

/// True when this build carries a template cluster.
pub fn available() -> bool {
    !TEMPLATE.is_empty()
}

/// Unpacks the template into `target` (which must not exist): directories
/// 0700, files 0600, as initdb makes them.
pub fn unpack(target: &Path) -> Result<(), PostgresError> {
    fs::DirBuilder::new().mode(0o700).create(target)?;
    let mut archive = tar::Archive::new(zstd::Decoder::new(TEMPLATE)?);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path
            .components()
            .any(|part| !matches!(part, Component::Normal(_)))
        {
            return Err(PostgresError::Installation(format!(
                "unsafe path {} in the template cluster",
                path.display()
            )));
        }
        let destination = target.join(&path);
        if entry.header().entry_type().is_dir() {
            fs::DirBuilder::new().mode(0o700).create(&destination)?;
        } else {
            let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry.read_to_end(&mut data)?;
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&destination)?
                .write_all(&data)?;
        }
    }
    Ok(())
}

/// Gives the unpacked cluster in `pgdata` a system identifier of its own,
/// made the way PostgreSQL makes one (the time in the high half) with random
/// low bits, in `pg_control` (whose CRC is recomputed) and in the header of
/// every WAL segment. Returns the new identifier.
pub fn give_identity(pgdata: &Path) -> Result<u64, PostgresError> {
    let broken = |what: &str| PostgresError::Installation(format!("template cluster: {what}"));
    let control_path = pgdata.join("global").join("pg_control");
    let mut control = fs::read(&control_path)?;
    let old = read_u64(&control, SYSTEM_ID_AT).ok_or_else(|| broken("short pg_control"))?;
    let crc_at = crc_offset(&control).ok_or_else(|| broken("no CRC found in pg_control"))?;

    let mut random = [0_u8; 4];
    getrandom::fill(&mut random)
        .map_err(|error| PostgresError::Unsafe(format!("no randomness: {error}")))?;
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let new = (seconds << 32) | u64::from(u32::from_ne_bytes(random));

    let mut segments = Vec::new();
    for entry in fs::read_dir(pgdata.join("pg_wal"))? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.len() == 24 && name.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut header = [0_u8; WAL_SYSTEM_ID_AT + 8];
            fs::File::open(entry.path())?.read_exact(&mut header)?;
            let info = u16::from_ne_bytes([header[2], header[3]]);
            if info & XLP_LONG_HEADER == 0 || read_u64(&header, WAL_SYSTEM_ID_AT) != Some(old) {
                return Err(broken(&format!(
                    "WAL segment {name} does not match pg_control"
                )));
            }
            segments.push(entry.path());
        }
    }
    if segments.is_empty() {
        return Err(broken("no WAL segment"));
    }
    for segment in segments {
        let mut file = fs::OpenOptions::new().write(true).open(segment)?;
        std::io::Seek::seek(&mut file, io::SeekFrom::Start(WAL_SYSTEM_ID_AT as u64))?;
        file.write_all(&new.to_ne_bytes())?;
    }
    control[SYSTEM_ID_AT..SYSTEM_ID_AT + 8].copy_from_slice(&new.to_ne_bytes());
    let crc = crc32c(&control[..crc_at]);
    control[crc_at..crc_at + 4].copy_from_slice(&crc.to_ne_bytes());
    fs::OpenOptions::new()
        .write(true)
        .open(&control_path)?
        .write_all(&control)?;
    Ok(new)
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The offset of `pg_control`'s CRC, which covers every byte before it: the
/// one 4-aligned offset whose stored value is the CRC-32C of what precedes
/// it. Found rather than assumed, so it follows the layout of any version.
fn crc_offset(control: &[u8]) -> Option<usize> {
    let limit = control.len().min(1024).saturating_sub(4);
    let mut found = None;
    let mut crc = !0_u32;
    for (at, byte) in control.iter().enumerate().take(limit) {
        if at >= 8 && at % 4 == 0 {
            let stored = u32::from_ne_bytes(control[at..at + 4].try_into().ok()?);
            if !crc == stored {
                if found.is_some() {
                    return None;
                }
                found = Some(at);
            }
        }
        crc = crc32c_update(crc, *byte);
    }
    found
}

/// CRC-32C (Castagnoli), as PostgreSQL computes it.
fn crc32c(bytes: &[u8]) -> u32 {
    !bytes
        .iter()
        .fold(!0_u32, |crc, byte| crc32c_update(crc, *byte))
}

fn crc32c_update(mut crc: u32, byte: u8) -> u32 {
    crc ^= u32::from(byte);
    for _ in 0..8 {
        crc = if crc & 1 == 1 {
            (crc >> 1) ^ 0x82F6_3B78
        } else {
            crc >> 1
        };
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn an_unpacked_template_gets_a_new_identity_in_pg_control_and_the_wal() {
        assert!(
            available(),
            "this build has no template cluster: see the build script's warning"
        );
        let dir =
            std::env::temp_dir().join(format!("soloist-template-test-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        unpack(&dir).unwrap();
        assert!(dir.join("PG_VERSION").is_file());
        assert!(dir.join("pg_tblspc").is_dir(), "empty directories are kept");
        let control_path = dir.join("global/pg_control");
        let before = std::fs::read(&control_path).unwrap();
        let crc_at = crc_offset(&before).unwrap();

        let id = give_identity(&dir).unwrap();
        let after = std::fs::read(&control_path).unwrap();
        assert_eq!(read_u64(&after, SYSTEM_ID_AT), Some(id));
        assert_ne!(read_u64(&before, SYSTEM_ID_AT), Some(id));
        assert_eq!(crc_offset(&after), Some(crc_at), "the CRC is valid again");
        assert_eq!(before[8..crc_at], after[8..crc_at], "nothing else changed");
        let mut segments = 0;
        for entry in std::fs::read_dir(dir.join("pg_wal")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(read_u64(&bytes, WAL_SYSTEM_ID_AT), Some(id));
                segments += 1;
            }
        }
        assert!(segments > 0);
        // A second identity replaces the first; a damaged pg_control is refused.
        assert_ne!(give_identity(&dir).unwrap(), id);
        let mut damaged = std::fs::read(&control_path).unwrap();
        damaged[40] ^= 0xFF;
        std::fs::write(&control_path, &damaged).unwrap();
        assert!(give_identity(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_crc_is_found_where_it_covers_what_precedes_it() {
        let mut control = vec![7_u8; 8192];
        for (index, byte) in control.iter_mut().enumerate().take(296) {
            *byte = (index * 31 % 251) as u8;
        }
        let crc = crc32c(&control[..296]);
        control[296..300].copy_from_slice(&crc.to_ne_bytes());
        assert_eq!(crc_offset(&control), Some(296));
        control[5] ^= 1;
        assert_eq!(crc_offset(&control), None);
    }
}
