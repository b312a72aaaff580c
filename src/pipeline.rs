//! XReleasePipeline: validate the spec, compose the pipeline's resources, write status.

use function_sdk_rust::proto::v1::RunFunctionResponse;
use function_sdk_rust::response;

use crate::function::{Call, Fatal};

/// Composes an XReleasePipeline.
pub fn compose(_call: &Call<'_>, rsp: &mut RunFunctionResponse) -> Result<(), Fatal> {
    response::warning(rsp, "XReleasePipeline composition is not built yet").reason =
        Some("NotImplemented".into());
    Ok(())
}
