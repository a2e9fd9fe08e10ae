//! `cobrowse demo`: the server with the demo company site and two demo agents.

use cobrowse_server::auth::hash_password;
use cobrowse_server::config::{AgentAccount, Config};

/// Demo agents: (id, name, password). Printed at start; never use them outside the demo.
pub const DEMO_AGENTS: [(&str, &str, &str); 2] =
    [("alice", "Alice Agent", "alice-demo"), ("bob", "Bob Agent", "bob-demo")];

/// The demo's base configuration, before the file, environment and flag layers.
pub fn base_config() -> Config {
    let mut config = Config { demo_site: true, data_dir: "data/demo".into(), ..Config::default() };
    config.agents = DEMO_AGENTS
        .iter()
        .map(|(id, name, password)| AgentAccount {
            id: (*id).into(),
            name: (*name).into(),
            password_hash: hash_password(password),
            supervisor: *id == "bob",
        })
        .collect();
    config.policy.observers_allowed = true;
    // The demo lets a visitor try co-browse at once; the chat and the simulated call show the
    // flows where it rides on a conversation. `cobrowse serve` requires a chat or call.
    config.policy.standalone_sessions = true;
    config.policy.masking.fields = vec!["#account-number".into(), "[name=ssn]".into()];
    config.policy.masking.text = vec![".balance".into()];
    config
}

/// What to tell the person who started the demo.
pub fn banner(base_url: &str) -> String {
    let mut text = format!(
        "\nCobrowse demo is running.\n\n  Customer page:   {base_url}/demo/\n  Agent workspace: {base_url}/agent/\n\n  Demo agents (user / password):\n"
    );
    for (id, name, password) in DEMO_AGENTS {
        text.push_str(&format!("    {id} / {password}   ({name})\n"));
    }
    text.push_str(
        "\n  Open the customer page, press \"Start co-browse\", then type the nine digits it shows\n  into the workspace's Session ID field. Press Ctrl+C to stop.\n",
    );
    text
}
