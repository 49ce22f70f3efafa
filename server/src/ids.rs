//! Random identifiers for carts, orders and confirmation numbers. Each carries at least 96 random bits
//! from the operating system's generator, so ids can neither be guessed nor collide in practice (24
//! bits collided within a short load test); a confirmation number that still meets an existing one is
//! drawn again (`api::record_order`). Tests replace the generator to force that path.

use std::sync::Arc;

/// Fills a buffer with random bytes; `Err` when the system generator fails.
pub type Random = Arc<dyn Fn(&mut [u8]) -> Result<(), String> + Send + Sync>;

/// Crockford's base32: no I, L, O, U, so a number read aloud or typed is not misread.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Bytes of randomness per id (128 bits, 32 hex digits).
pub const ID_BYTES: usize = 16;
/// Bytes drawn per confirmation number: 100 of their 104 bits make 20 base32 digits.
pub const CONFIRMATION_BYTES: usize = 13;

/// Lowercase hex of `bytes`: ids, secrets, their hashes, fingerprints and ETags.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone)]
pub struct Ids(Random);

impl Default for Ids {
    fn default() -> Self {
        Ids(Arc::new(|buf: &mut [u8]| {
            getrandom::fill(buf).map_err(|e| format!("system random generator: {e}"))
        }))
    }
}

impl Ids {
    /// Ids from another generator (tests).
    pub fn from_fn(random: impl Fn(&mut [u8]) -> Result<(), String> + Send + Sync + 'static) -> Ids {
        Ids(Arc::new(random))
    }

    /// `N` random bytes.
    pub fn bytes<const N: usize>(&self) -> Result<[u8; N], String> {
        let mut buf = [0u8; N];
        (self.0)(&mut buf)?;
        Ok(buf)
    }

    fn hex_id(&self, prefix: &str) -> Result<String, String> {
        let bytes: [u8; ID_BYTES] = self.bytes()?;
        Ok(format!("{prefix}{}", hex(&bytes)))
    }

    /// `cart_` and 32 hex digits.
    pub fn cart(&self) -> Result<String, String> {
        self.hex_id("cart_")
    }

    /// `ord_` and 32 hex digits.
    pub fn order(&self) -> Result<String, String> {
        self.hex_id("ord_")
    }

    /// `CONF-<date>-` and 20 base32 digits in groups of four: `CONF-2026-11-26-7KQ4-M2XD-9PJH-W3RT-BN6C`.
    pub fn confirmation(&self, date: &str) -> Result<String, String> {
        let bytes: [u8; CONFIRMATION_BYTES] = self.bytes()?;
        let mut bits = bytes.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
        let mut digits = Vec::with_capacity(20);
        for _ in 0..20 {
            let index = usize::try_from(bits & 31).unwrap_or(0);
            digits.push(CROCKFORD.get(index).copied().unwrap_or(b'0'));
            bits >>= 5;
        }
        let groups: Vec<String> = digits
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        Ok(format!("CONF-{date}-{}", groups.join("-")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_shape_and_differ() {
        let ids = Ids::default();
        let (a, b) = (ids.order().unwrap(), ids.order().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 32);
        assert!(ids.cart().unwrap().starts_with("cart_"));
        let conf = ids.confirmation("2026-11-26").unwrap();
        assert_eq!(conf.len(), "CONF-2026-11-26-".len() + 24);
        assert!(conf["CONF-2026-11-26-".len()..]
            .bytes()
            .all(|c| c == b'-' || CROCKFORD.contains(&c)));
    }

    #[test]
    fn a_failing_generator_is_an_error_not_a_panic() {
        let ids = Ids::from_fn(|_| Err("no entropy".into()));
        assert_eq!(ids.order().unwrap_err(), "no entropy");
    }
}
