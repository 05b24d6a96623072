// What Istio needs beside the WasmPlugins for the suite to report Istio's standard metrics:
//  - meshConfig.defaultConfig.extraStatTags for the 25 standard labels: Istio >= 1.18 no longer puts
//    the label tag regexes in the bootstrap, and each extra tag becomes `(<tag>=\.=(.*?);\.;)`,
//    the form our stats filter encodes names in (filters.md §2.4);
//  - a Telemetry resource disabling the built-in istio.stats metrics, which would otherwise emit the
//    same istio_* names (filters.md §2.4 "Collision warning");
//  - PILOT_ENABLE_METADATA_EXCHANGE=false on istiod, so Istio's own istio.metadata_exchange does not
//    strip the peer headers before our metadata-exchange runs (filters.md §5.5 "Coexistence").

/** filters.md §2.2, in the fixed order the stats filter encodes them. */
export const istioStandardLabels = [
  "reporter",
  "source_workload",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "source_canonical_service",
  "source_canonical_revision",
  "source_cluster",
  "destination_workload",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_service",
  "destination_service_name",
  "destination_service_namespace",
  "destination_canonical_service",
  "destination_canonical_revision",
  "destination_cluster",
  "request_protocol",
  "response_flags",
  "connection_security_policy",
  "response_code",
  "grpc_response_status",
] as const;

/** The bootstrap stats_tags entry Istio renders for one extraStatTags name (filters.md §2.4). */
export function extraStatTagRegex(tag: string): string {
  return `(${tag}=\\.=(.*?);\\.;)`;
}

export const metadataExchangeSetting = { name: "PILOT_ENABLE_METADATA_EXCHANGE", value: "false" } as const;

/** Telemetry API (telemetry.istio.io/v1, Istio >= 1.22; v1alpha1 before) in the root namespace. */
export function telemetryDisablingBuiltinMetrics(namespace = "istio-system"): object {
  return {
    apiVersion: "telemetry.istio.io/v1",
    kind: "Telemetry",
    metadata: { name: "proxy-wasm-as-disable-builtin-metrics", namespace },
    spec: {
      metrics: [
        {
          providers: [{ name: "prometheus" }],
          overrides: [{ match: { metric: "ALL_METRICS", mode: "CLIENT_AND_SERVER" }, disabled: true }],
        },
      ],
    },
  };
}

/** For `istioctl install -f`: the mesh settings and istiod's environment in one overlay. */
export function istioOperatorOverlay(): object {
  return {
    apiVersion: "install.istio.io/v1alpha1",
    kind: "IstioOperator",
    metadata: { name: "proxy-wasm-as", namespace: "istio-system" },
    spec: {
      meshConfig: { defaultConfig: { extraStatTags: [...istioStandardLabels] } },
      values: { pilot: { env: { [metadataExchangeSetting.name]: metadataExchangeSetting.value } } },
    },
  };
}

/** The same for the istiod Helm chart (`helm upgrade istiod istio/istiod -f ...`). */
export function istiodHelmValues(): object {
  return {
    meshConfig: { defaultConfig: { extraStatTags: [...istioStandardLabels] } },
    pilot: { env: { [metadataExchangeSetting.name]: metadataExchangeSetting.value } },
  };
}
