//! Passwords and tokens: what a valid password is, argon2id hashing with a
//! cap on concurrent hashes, and random tokens stored as SHA-256.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 8;
/// The longest password accepted (never truncated below this).
pub const MAX_PASSWORD: usize = 128;

/// A password that passed the policy; its text never appears in `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Password(..)")
    }
}

/// Why a new password is refused (shown next to the field).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD`].
    #[error("Use at least 8 characters.")]
    TooShort,
    /// Longer than [`MAX_PASSWORD`].
    #[error("Use at most 128 characters.")]
    TooLong,
    /// Among the passwords attackers try first.
    #[error("This password is too common or too easy to guess. Try a longer phrase.")]
    TooCommon,
}

impl Password {
    /// Checks a new password: 8 to 128 characters, not a common one (the
    /// zxcvbn dictionaries, with the user's own email and name as hints).
    pub fn new(text: &str, hints: &[&str]) -> Result<Self, PasswordError> {
        let length = text.chars().count();
        if length < MIN_PASSWORD {
            return Err(PasswordError::TooShort);
        }
        if length > MAX_PASSWORD {
            return Err(PasswordError::TooLong);
        }
        let entropy = zxcvbn::zxcvbn(text, hints);
        if u8::from(entropy.score()) < 2 {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(text.to_owned()))
    }

    /// A password typed at sign-in: only the length is bounded, so that
    /// hashing cost cannot be driven up by huge inputs.
    pub fn attempt(text: &str) -> Option<Self> {
        (!text.is_empty() && text.chars().count() <= MAX_PASSWORD).then(|| Self(text.to_owned()))
    }

    /// The text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Hashes and verifies passwords on a few dedicated threads (one per
/// permit): argon2id at OWASP parameters takes ~19 MiB and tens of
/// milliseconds per hash, so an unbounded flood of sign-ins would exhaust
/// memory. A fixed set of threads also bounds what the allocator keeps:
/// hashing on tokio's blocking pool (up to 512 threads, each with its own
/// malloc arena) grew a sign-in flood to ~800 MiB.
#[derive(Clone)]
pub struct PasswordHasherPool {
    jobs: std::sync::mpsc::Sender<Job>,
    /// A hash that matches no password anyone types: misses verify against
    /// it. Computed on a hashing thread, off the boot path.
    dummy_hash: Arc<std::sync::OnceLock<String>>,
}

fn dummy_hash(cell: &std::sync::OnceLock<String>) -> &str {
    cell.get_or_init(|| hash_blocking("no account has this password").unwrap_or_default())
}

type Job = Box<dyn FnOnce() + Send>;

/// Hashing failed (the hashing threads went away, or a stored hash is corrupt).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn argon2() -> Argon2<'static> {
    // OWASP: argon2id, m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(|error| HashError(error.to_string()))?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|error| HashError(error.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(phc).map_err(|error| HashError(error.to_string()))?;
    Ok(argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

impl PasswordHasherPool {
    /// A pool of `threads` hashing threads (at most that many hashes at once).
    pub fn new(threads: usize) -> Result<Self, HashError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|error| HashError(error.to_string()))?;
        }
        let pool = Self {
            jobs,
            dummy_hash: Arc::new(std::sync::OnceLock::new()),
        };
        let warm = pool.dummy_hash.clone();
        pool.jobs
            .send(Box::new(move || {
                dummy_hash(&warm);
            }))
            .map_err(|_| HashError("the hashing threads stopped".to_owned()))?;
        Ok(pool)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                done.send(work()).ok();
            }))
            .map_err(|_| HashError("the hashing threads stopped".to_owned()))?;
        result
            .await
            .map_err(|_| HashError("a hashing thread failed".to_owned()))
    }

    /// The argon2id PHC string of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.0.clone();
        self.run(move || hash_blocking(&password)).await?
    }

    /// Whether `password` matches `phc`. With no stored hash, verifies
    /// against a dummy so that a miss costs the same time as a hit.
    pub async fn verify(&self, password: &Password, phc: Option<&str>) -> Result<bool, HashError> {
        let password = password.0.clone();
        let stored = phc.map(str::to_owned);
        let dummy = self.dummy_hash.clone();
        let real = stored.is_some();
        let matched = self
            .run(move || match &stored {
                Some(phc) => verify_blocking(&password, phc),
                None => verify_blocking(&password, dummy_hash(&dummy)),
            })
            .await??;
        Ok(real && matched)
    }
}

/// 256 random bits as 43 URL-safe characters.
pub fn random_token() -> Result<String, HashError> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| HashError(error.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a token as hex: what the database stores.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The known-device value of an account: an HMAC of its id keyed with its
/// password hash (a secret only the server holds). A browser that signed
/// in with the password gets it as a cookie; it dies with the password.
pub fn known_device_proof(password_hash: &str, user_id: crate::accounts::model::UserId) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(password_hash.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("soloist known device {}", user_id.0).as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Compares two secrets in constant time.
pub fn same_secret(left: &str, right: &str) -> bool {
    use subtle::ConstantTimeEq;
    left.len() == right.len() && bool::from(left.as_bytes().ct_eq(right.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_policy_refuses_short_long_and_common_passwords() {
        assert_eq!(
            Password::new("short", &[]).err(),
            Some(PasswordError::TooShort)
        );
        assert_eq!(
            Password::new(&"x".repeat(129), &[]).err(),
            Some(PasswordError::TooLong)
        );
        for common in [
            "password",
            "password123",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
        ] {
            assert_eq!(
                Password::new(common, &[]).err(),
                Some(PasswordError::TooCommon),
                "{common}"
            );
        }
        assert_eq!(
            Password::new("ada.lovelace@example.com", &["ada.lovelace@example.com"]).err(),
            Some(PasswordError::TooCommon)
        );
        assert!(Password::new("correct horse battery staple", &[]).is_ok());
        let long: String = (0..120u32)
            .map(|index| char::from(b'!' + ((index * 37 + 11) % 90) as u8))
            .collect();
        assert_eq!(
            Password::new(&long, &[])
                .map(|password| password.expose().len())
                .ok(),
            Some(120)
        );
    }

    #[test]
    fn tokens_are_random_and_stored_as_sha256() {
        let one = random_token().unwrap();
        let two = random_token().unwrap();
        assert_ne!(one, two);
        assert_eq!(one.len(), 43);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(
            same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab")
        );
    }

    #[tokio::test]
    async fn hashes_verify_only_the_right_password_and_misses_never_match() {
        let pool = PasswordHasherPool::new(2).unwrap();
        let password = Password::new("correct horse battery staple", &[]).unwrap();
        let hash = pool.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(pool.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::attempt("correct horse battery stapler").unwrap();
        assert!(!pool.verify(&wrong, Some(&hash)).await.unwrap());
        assert!(!pool.verify(&password, None).await.unwrap());
    }
}
