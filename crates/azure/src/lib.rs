//! nodemend-azure: the Azure Resource Manager (ARM) client that nodemend runs in production.
//!
//! Where to start:
//! - [`AzureProvider`] implements [`nodemend_core::cloud::CloudProvider`]: VM actions (single and
//!   batched per scale set), cluster and pool reads and reconciles, and the diagnosis reads.
//! - [`ArmConfig::from_env`] reads the endpoint, authority host, CA bundle and credential from the
//!   standard Azure environment variables; [`Credential`] gets and caches tokens.
//! - [`requests::Requests`] builds every ARM request as a pure function and [`parse`] reads every
//!   response; [`Executor`] is the one place that sends them (auth, retries, throttling) and
//!   [`Executor::wait`] follows long-running operations.
//!
//! Why not `azure_identity`/`azure_core`: azure_core 1.x refuses bearer tokens over plain HTTP
//! (the simulator on loopback) and pulls in aws-lc-rs, which needs cmake; the three OAuth2 flows
//! nodemend needs (client secret, client assertion, managed identity) are each one form POST or
//! GET, so they are implemented here, on the same ring-based HTTP client as the ARM calls.

mod access;
mod config;
mod credential;
mod error;
mod executor;
mod http_client;
mod lro;
pub mod parse;
mod provider;
pub mod requests;
mod retry;
mod secret;
mod throttle;

pub use access::{Access, Permission, action_matches};
pub use config::{
    ApiVersions, ArmConfig, ConfigError, DEFAULT_ARM_ENDPOINT, DEFAULT_AUTHORITY_HOST,
    IMDS_TOKEN_ENDPOINT,
};
pub use credential::{Credential, CredentialError, CredentialSource};
pub use error::{Error, Result};
pub use executor::{CallStats, Executor};
pub use http_client::build as http_client;
pub use provider::AzureProvider;
pub use requests::{ArmRequest, OpClass};
pub use retry::RetryPolicy;
pub use secret::Secret;
