//! Layers the configuration: built-in defaults, then a TOML file, then `COBROWSE_*` environment
//! variables (nested keys joined by `__`, e.g. `COBROWSE_TIMEOUTS__PENDING=10m`), then flags.

use cobrowse_server::config::Config;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Flags that override every other layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

/// Builds and validates the configuration from `base` (defaults, or the demo's), an optional
/// file, the environment and the flags.
pub fn load(base: Config, file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(base));
    if let Some(file) = file {
        if !file.exists() {
            anyhow::bail!("configuration file {} does not exist", file.display());
        }
        figment = figment.merge(Toml::file_exact(file));
    }
    // COBROWSE_LOG sets the log level (read in main), not a configuration key.
    figment = figment.merge(Env::prefixed("COBROWSE_").ignore(&["LOG"]).split("__"));
    if let Some(listen) = overrides.listen {
        figment = figment.merge(Serialized::default("listen", listen));
    }
    if let Some(dir) = &overrides.data_dir {
        figment = figment.merge(Serialized::default("data_dir", dir));
    }
    let config: Config = figment.extract().map_err(|err| anyhow::anyhow!("invalid configuration: {err}"))?;
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("c.toml", "listen = \"127.0.0.1:9000\"\n[timeouts]\npending = \"2m\"\n")?;
            jail.set_env("COBROWSE_TIMEOUTS__INACTIVITY", "45m");
            jail.set_env("COBROWSE_LISTEN", "127.0.0.1:9001");
            jail.set_env("COBROWSE_LOG", "debug");
            let overrides = Overrides { data_dir: Some("/tmp/x".into()), ..Overrides::default() };
            let config = load(Config::default(), Some(Path::new("c.toml")), &overrides).unwrap();
            assert_eq!(config.timeouts.pending.as_secs(), 120, "file");
            assert_eq!(config.timeouts.inactivity.as_secs(), 45 * 60, "environment");
            assert_eq!(config.listen.port(), 9001, "environment beats file");
            assert_eq!(config.data_dir, PathBuf::from("/tmp/x"), "flag");
            Ok(())
        });
    }

    #[test]
    fn bad_files_are_explained() {
        let dir = tempfile_dir();
        let path = dir.join("bad.toml");
        let mut file = std::fs::File::create(&path).unwrap();
        writeln!(file, "[timeouts]\npending = \"soon\"").unwrap();
        let err = load(Config::default(), Some(&path), &Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("pending"), "{err}");

        std::fs::write(&path, "lisen = \"x\"").unwrap();
        let err = load(Config::default(), Some(&path), &Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("lisen"), "unknown keys are named: {err}");

        let err = load(Config::default(), Some(&dir.join("missing.toml")), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cobrowse-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
