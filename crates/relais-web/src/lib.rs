//! Relais HTTP interface: the REST API under `/api/v1` (JSON, errors as RFC 9457 problem+json),
//! its OpenAPI document generated from the handlers, the private iCalendar feed, `/healthz` and
//! `/metrics`.
//!
//! Handlers are thin: they parse the request, build the [`relais_app::Actor`], call one
//! [`relais_app::App`] method and turn the result into JSON. Authorisation lives in the service
//! layer, never here.

pub mod api;
mod problem;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use relais_app::App;
use std::net::SocketAddr;

/// Shared state of every handler.
#[derive(Clone)]
pub struct WebState {
    /// The application services.
    pub app: App,
    /// Renders the Prometheus metrics.
    pub metrics: Option<PrometheusHandle>,
}

/// Builds the whole HTTP router.
pub fn router(state: WebState) -> Router {
    api::router(state)
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: WebState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}
