//! Runs the simulated API server until Ctrl-C, writing a kubeconfig for kubectl:
//! `cargo run -p nodemend-sim --example apiserver -- /tmp/sim.kubeconfig`.

use nodemend_sim::apiserver::{ApiServer, ApiServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sim.kubeconfig".to_owned());
    let server = ApiServer::start(ApiServerConfig::default()).await?;
    server.write_kubeconfig(std::path::Path::new(&path))?;
    println!(
        "simulated API server ready at {}; KUBECONFIG={path}",
        server.url()
    );
    tokio::signal::ctrl_c().await?;
    server.shutdown().await?;
    Ok(())
}
