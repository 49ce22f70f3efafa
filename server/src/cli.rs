//! The command line: `cart-server [--addr A] [--db FILE|URL] [--db-pool N] [--catalog FILE] [--static DIR] [--pkg DIR]
//! [--rate-limit N] [--cart-ttl SECONDS] [--idempotency-ttl SECONDS] [--body-limit BYTES] [--relay FILE]
//! [--allow-origin ORIGIN]... [--trusted-proxy NET]... [--connect-src SOURCE]... [--max-connections N] [--header-timeout SECONDS]
//! [--body-timeout SECONDS]`.
//! Hand-rolled: a handful of flags do not justify a dependency. `--flag value` and `--flag=value` both work.

use crate::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
cart-server: the wasm-cart reference checkout server (SPEC-B over SQLite or PostgreSQL)

USAGE:
    cart-server [OPTIONS]

OPTIONS:
    --addr ADDR           listen address                         [default: 127.0.0.1:8080]
    --db FILE|URL         a SQLite file (created if missing), or postgres://user:password@host/db
                          for several instances on one database [default: data/cart.db]
    --db-pool N           PostgreSQL connections per instance   [default: 16]
    --sqlite-synchronous full|normal
                          normal may lose the last answered orders on power loss; for
                          measurements (make bench), not for shops   [default: full]
    --catalog FILE        catalog JSON                           [default: the built-in demo catalog]
    --static DIR          storefront served at /                 [default: www]
    --pkg DIR             wasm-pack output served at /pkg/       [default: pkg]
    --rate-limit N        API requests per minute per client IP  [default: 100]; on PostgreSQL
                          the buckets are in the database, shared by every instance
    --trusted-proxy NET   a reverse proxy (10.0.0.2 or 10.0.0.0/8) whose X-Forwarded-For names the
                          client; repeatable                             [default: none]
    --cart-ttl SECONDS    server carts expire after inactivity   [default: 1800]
    --idempotency-ttl SECONDS
                          checkout answers kept per key          [default: 86400]
    --body-limit BYTES    largest request body accepted          [default: 65536]
    --relay FILE          place checkouts into a platform (JSON; docs/sync.md); credentials may be
                          ${ENV_VAR} references and are never logged
    --allow-origin ORIGIN a storefront origin (https://shop.example) allowed to call the API from
                          the browser (CORS); repeatable                 [default: none]
    --connect-src SOURCE  an origin the served pages may call besides their own (a browser-direct
                          platform), added to the CSP's connect-src; repeatable [default: none]
    --max-connections N   open connections at most; more wait        [default: 1024]
    --header-timeout SECONDS
                          request headers (or the next request on an idle connection) must arrive
                          within this                                [default: 10]
    --body-timeout SECONDS
                          a request body must arrive within this     [default: 30]
    -h, --help            print this help
    -V, --version         print the version
";

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
}

pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ => {}
        }
        let mut value = || -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "--addr" => {
                let v = value()?;
                config.addr = v.parse::<SocketAddr>().map_err(|e| format!("--addr {v}: {e}"))?;
            }
            "--db" => config.db = crate::store::Database::parse(&value()?),
            "--db-pool" => config.db_pool = number(&flag, &value()?, 1)?,
            "--sqlite-synchronous" => {
                config.sqlite_full_sync = match value()?.as_str() {
                    "full" => true,
                    "normal" => false,
                    other => return Err(format!("{flag}: full or normal, got {other:?}")),
                }
            }
            "--catalog" => config.catalog = Some(PathBuf::from(value()?)),
            "--static" => config.static_dir = PathBuf::from(value()?),
            "--pkg" => config.pkg_dir = PathBuf::from(value()?),
            "--rate-limit" => config.rate_limit = number(&flag, &value()?, 1)?,
            "--cart-ttl" => config.cart_ttl_seconds = number(&flag, &value()?, 0)?,
            "--idempotency-ttl" => config.idempotency_ttl_seconds = number(&flag, &value()?, 1)?,
            "--body-limit" => config.body_limit = number(&flag, &value()?, 1024)?,
            "--relay" => config.relay = Some(PathBuf::from(value()?)),
            "--allow-origin" => config.allow_origins.push(origin(&flag, &value()?)?),
            "--trusted-proxy" => config.trusted_proxies.push(network(&flag, &value()?)?),
            "--connect-src" => config.connect_src.push(csp_source(&flag, &value()?)?),
            "--max-connections" => config.max_connections = number(&flag, &value()?, 1)?,
            "--header-timeout" => config.header_timeout = Duration::from_secs(number(&flag, &value()?, 1)?),
            "--body-timeout" => config.body_timeout = Duration::from_secs(number(&flag, &value()?, 1)?),
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    Ok(Command::Run(Box::new(config)))
}

/// `scheme://host[:port]`, nothing after it: what a browser sends as `Origin`.
fn origin(flag: &str, text: &str) -> Result<String, String> {
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    });
    if ok {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{flag}: expected an origin such as https://shop.example, got {text:?}"
        ))
    }
}

/// A CSP host source (`https://api.example`, `http://127.0.0.1:*`): no spaces, quotes or separators,
/// so it cannot widen the policy beyond itself.
fn csp_source(flag: &str, text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"'))
        && text != "*";
    if ok {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{flag}: expected a host source such as https://api.example, got {text:?}"
        ))
    }
}

/// An address (`10.0.0.2`, `::1`) or a network (`10.0.0.0/8`, `fd00::/8`).
fn network(flag: &str, text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{flag}: expected an IP address or network (10.0.0.0/8), got {text:?}"))
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(flag: &str, text: &str, min: T) -> Result<T, String> {
    match text.parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!("{flag}: expected a whole number >= {min}, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(c) => Ok(*c),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let c = run(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.db, crate::store::Database::Sqlite(PathBuf::from("data/cart.db")));
        assert_eq!(c.static_dir, PathBuf::from("www"));
        assert_eq!(c.pkg_dir, PathBuf::from("pkg"));
        assert_eq!(c.rate_limit, 100);
        assert_eq!(c.idempotency_ttl_seconds, 86_400);
        assert!(c.catalog.is_none());
        let c = run(&[
            "--addr=0.0.0.0:9000",
            "--db",
            "x.db",
            "--catalog",
            "c.json",
            "--rate-limit",
            "5",
            "--idempotency-ttl=3600",
        ])
        .unwrap();
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.db, crate::store::Database::Sqlite(PathBuf::from("x.db")));
        assert_eq!(c.catalog, Some(PathBuf::from("c.json")));
        assert_eq!(c.rate_limit, 5);
        assert_eq!(c.idempotency_ttl_seconds, 3600);
    }

    #[test]
    fn errors_and_help() {
        assert!(run(&["--bogus"]).unwrap_err().contains("unknown option"));
        assert!(run(&["--addr"]).unwrap_err().contains("needs a value"));
        assert!(run(&["--addr", "nope"]).is_err());
        assert!(run(&["--rate-limit", "0"]).is_err());
        assert!(run(&["--idempotency-ttl", "0"]).is_err());
        assert!(run(&["--allow-origin", "shop.example"]).is_err());
        assert!(run(&["--allow-origin", "https://shop.example/path"]).is_err());
        assert!(run(&["--connect-src", "https://x; script-src *"]).is_err());
        assert!(run(&["--connect-src", "*"]).is_err());
        assert!(run(&["--trusted-proxy", "proxy.internal"]).is_err());
        let c = run(&[
            "--allow-origin",
            "https://a.example",
            "--allow-origin=http://127.0.0.1:5173",
            "--connect-src",
            "http://127.0.0.1:*",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--trusted-proxy=::1",
            "--db",
            "postgres://cart:pw@db/shop",
            "--db-pool",
            "4",
        ])
        .unwrap();
        assert_eq!(
            c.trusted_proxies,
            vec![
                "10.0.0.0/8".parse::<ipnet::IpNet>().unwrap(),
                "::1/128".parse().unwrap()
            ]
        );
        assert!(matches!(c.db, crate::store::Database::Postgres(_)));
        assert_eq!(c.db_pool, 4);
        assert_eq!(c.allow_origins, vec!["https://a.example", "http://127.0.0.1:5173"]);
        assert_eq!(c.connect_src, vec!["http://127.0.0.1:*"]);
        assert!(matches!(parse(vec!["--help".to_string()]), Ok(Command::Help)));
    }
}
