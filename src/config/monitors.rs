//! The other monitoring systems whose alerts join Alertmanager's: Zabbix and CrowdSec.

use serde::Deserialize;

use super::secret_ref::SecretRef;

/// One Zabbix server's JSON-RPC API (`[[contexts.NAME.zabbix]]`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZabbixConfig {
    /// How its problems' source is shown (default `zabbix`).
    #[serde(default = "default_zabbix_name")]
    pub name: String,
    /// The frontend's base URL (`/api_jsonrpc.php` is added) or the API's URL itself.
    pub url: String,
    /// An API token (Administration → API tokens) or a session id, by reference.
    pub token: SecretRef,
}

fn default_zabbix_name() -> String {
    "zabbix".into()
}

/// CrowdSec's local API (`[contexts.NAME.crowdsec]`): a machine login reads alerts (and their
/// decisions); a bouncer key alone reads active decisions only.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CrowdSecConfig {
    pub url: String,
    pub machine_id: Option<String>,
    /// The machine's password, by reference.
    pub password: Option<SecretRef>,
    /// A bouncer's API key, by reference (`X-Api-Key`).
    pub bouncer_key: Option<SecretRef>,
}
