//! XPromotionGate: decide the gate from GitHub, compose its resources, write status.

use function_sdk_rust::proto::v1::RunFunctionResponse;
use function_sdk_rust::response;

use crate::function::{Call, Fatal};
use crate::github::{Connector, Secret};

/// Composes an XPromotionGate.
pub async fn compose(
    _call: &Call<'_>,
    _github: &dyn Connector,
    _env_token: Option<&Secret>,
    rsp: &mut RunFunctionResponse,
) -> Result<(), Fatal> {
    response::warning(rsp, "XPromotionGate composition is not built yet").reason =
        Some("NotImplemented".into());
    Ok(())
}
