import { TrafficDirection, parseConfig } from "../config";

function onlyError(text: string): string {
  const result = parseConfig(text);
  expect(result.errors.length).toBe(1, "errors for " + text);
  return result.errors.length > 0 ? result.errors[0] : "";
}

describe("metadata-exchange configuration", () => {
  it("uses Istio's defaults for an empty configuration", () => {
    const result = parseConfig("");
    expect(result.errors.length).toBe(0);
    expect(result.config.maxPeerCacheSize).toBe(500);
    expect(result.config.direction).toBe(TrafficDirection.Unspecified);
    expect(result.config.additionalLabels.length).toBe(0);
    expect(result.config.edge).toBe(false);
    expect(result.config.maxPeerHeaderBytes).toBe(16384);
    expect(parseConfig("{}").errors.length).toBe(0);
  });

  it("reads every field", () => {
    const result = parseConfig(
      '{"max_peer_cache_size": 0, "direction": "OUTBOUND", "additional_labels": ["team", "tier"], "edge": true, "max_peer_header_bytes": 1024}',
    );
    expect(result.errors.length).toBe(0);
    expect(result.config.maxPeerCacheSize).toBe(0);
    expect(result.config.direction).toBe(TrafficDirection.Outbound);
    expect(result.config.additionalLabels.join(",")).toBe("team,tier");
    expect(result.config.edge).toBe(true);
    expect(result.config.maxPeerHeaderBytes).toBe(1024);
    expect(parseConfig('{"direction": "INBOUND"}').config.direction).toBe(TrafficDirection.Inbound);
  });

  it("names the field and keeps its default when a value is wrong", () => {
    let message = onlyError('{"max_peer_cache_size": -1, "edge": true}');
    expect(message).toBe("max_peer_cache_size: must be an integer from 0 to 2147483647, got -1; the default 500 applies");
    const result = parseConfig('{"max_peer_cache_size": 2.5, "edge": true}');
    expect(result.config.maxPeerCacheSize).toBe(500);
    expect(result.config.edge).toBe(true, "the valid fields still apply");
    expect(result.errors[0]).toBe("max_peer_cache_size: must be an integer from 0 to 2147483647, got a fractional or huge number; the default 500 applies");
    expect(onlyError('{"max_peer_cache_size": "500"}')).toBe("max_peer_cache_size: must be an integer from 0 to 2147483647, got \"500\"; the default 500 applies");
    expect(onlyError('{"max_peer_header_bytes": 0}')).toBe("max_peer_header_bytes: must be an integer from 1 to 1048576, got 0; the default 16384 applies");
    expect(onlyError('{"max_peer_header_bytes": 1048577}').includes("max_peer_header_bytes: must be an integer from 1 to 1048576")).toBe(true);
    expect(onlyError('{"direction": "inbound"}')).toBe("direction: must be INBOUND, OUTBOUND or UNSPECIFIED, got \"inbound\"; the default UNSPECIFIED applies");
    expect(onlyError('{"direction": 1}').includes("direction: must be INBOUND, OUTBOUND or UNSPECIFIED, got 1")).toBe(true);
    expect(onlyError('{"edge": "yes"}')).toBe("edge: must be a boolean, got \"yes\"; the default false applies");
    expect(onlyError('{"additional_labels": "team"}')).toBe("additional_labels: must be an array of label names, got \"team\"; the default [] applies");
  });

  it("keeps the valid additional labels and reports each invalid one", () => {
    const result = parseConfig('{"additional_labels": ["team", 3, "", null, "tier"]}');
    expect(result.config.additionalLabels.join(",")).toBe("team,tier");
    expect(result.errors.length).toBe(3);
    expect(result.errors[0]).toBe("additional_labels[1]: must be a non-empty label name, got 3; ignored");
    expect(result.errors[1]).toBe("additional_labels[2]: must be a non-empty label name, got \"\"; ignored");
    expect(result.errors[2]).toBe("additional_labels[3]: must be a non-empty label name, got null; ignored");
  });

  it("reports unknown fields, documents that are not objects and bad JSON", () => {
    expect(onlyError('{"max_cache_size": 5}')).toBe("max_cache_size: unknown field, ignored");
    expect(onlyError("[1]")).toBe("must be a JSON object, got array; all defaults apply");
    const message = onlyError('{"edge": tru}');
    expect(message.includes("not valid JSON (line 1, column 10")).toBe(true, message);
    expect(message.includes("all defaults apply")).toBe(true, message);
    expect(parseConfig('{"edge": tru}').config.edge).toBe(false);
    // As in Istio, only an empty configuration means "none": blank text is not JSON.
    expect(onlyError(" \n ").includes("not valid JSON")).toBe(true);
  });
});
