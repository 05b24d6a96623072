// Envoy's tag extraction (source/common/stats/tag_producer_impl.cc, tag_extractor_impl.cc): a full
// stat name such as "cluster.httpbin_service.upstream_rq_500" becomes a tag-extracted name
// ("cluster.upstream_rq") plus tags (envoy.response_code="500", envoy.cluster_name=...), which
// /stats/prometheus renders as labels. The default extractors are Envoy's TagNameValues
// (source/common/config/well_known_names.cc); bootstrap stats_config.stats_tags add regexes or
// fixed values. Every extractor matches the original name; the characters each one claims are
// removed together at the end, so extractors do not interfere.

export interface Tag {
  name: string;
  value: string;
}

export interface TaggedName {
  tagExtractedName: string;
  tags: Tag[];
}

interface Extractor {
  name: string;
  /** First token of names this extractor can match ("cluster"), or undefined for any name. */
  prefix?: string;
  extract(name: string, tags: Tag[], remove: Array<[number, number]>): void;
}

const TAG_VALUE = String.raw`[^\.]+`;
const expansions: Record<string, string> = {
  "<ADDRESS>": String.raw`(?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)`,
  "<CIPHER>": String.raw`[\w-]+`,
  "<TLS_VERSION>": String.raw`TLSv\d\.\d`,
  "<TAG_VALUE>": TAG_VALUE,
  "<ROUTE_CONFIG_NAME>": String.raw`[\w\-\.]+`,
  "<LISTENER_OR_CLUSTER_WITH_NAME>": String.raw`(?:listener|cluster)\..*?`,
};

const expand = (re: string): string => re.replace(/<[A-Z_]+>/g, (m) => expansions[m] ?? m);

/** The literal first token of an anchored regex ("^listener\." → "listener"), Envoy extractRegexPrefix. */
function regexPrefix(re: string): string | undefined {
  const m = /^\^([a-zA-Z0-9_]+)\\\./.exec(re);
  return m?.[1];
}

/** A regex extractor: group 1 is removed from the name, group 2 (or 1) is the value. */
function regexExtractor(name: string, regex: string, substr = "", negativeMatch = ""): Extractor {
  const re = new RegExp(regex, "d");
  return {
    name,
    prefix: regexPrefix(regex),
    extract(statName, tags, remove) {
      if (substr && !statName.includes(substr)) return;
      const m = re.exec(statName);
      if (!m || m[1] === undefined) return;
      const value = m.length > 2 && m[2] !== undefined ? m[2] : m[1];
      if (negativeMatch && value === negativeMatch) return;
      tags.push({ name, value });
      remove.push(m.indices![1]!);
    },
  };
}

/**
 * A tokenized extractor ("cluster.$.**"): tokens are '.'-separated; `*` matches one token, `**`
 * any number, `$` one token that becomes the value and is removed with its separating dot.
 */
function tokenExtractor(name: string, pattern: string): Extractor {
  const pat = pattern.split(".");
  const first = pat[0]!;
  return {
    name,
    prefix: first !== "*" && first !== "**" && first !== "$" ? first : undefined,
    extract(statName, tags, remove) {
      const tokens = statName.split(".");
      const captured = matchTokens(pat, 0, tokens, 0);
      if (captured === undefined) return;
      let start = 0;
      for (let i = 0; i < captured; i++) start += tokens[i]!.length + 1;
      const end = start + tokens[captured]!.length;
      tags.push({ name, value: tokens[captured]! });
      // The token and the dot after it, or the dot before it when it is the last token.
      remove.push(end < statName.length ? [start, end + 1] : [Math.max(0, start - 1), end]);
    },
  };
}

/** Index of the token captured by `$`, or undefined when the pattern does not match. */
function matchTokens(pat: string[], p: number, tokens: string[], t: number): number | undefined {
  if (p === pat.length) return t === tokens.length ? -1 : undefined;
  const token = pat[p]!;
  if (token === "**") {
    for (let skip = 0; t + skip <= tokens.length; skip++) {
      const r = matchTokens(pat, p + 1, tokens, t + skip);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  if (t >= tokens.length) return undefined;
  if (token !== "*" && token !== "$" && token !== tokens[t]) return undefined;
  const rest = matchTokens(pat, p + 1, tokens, t + 1);
  if (rest === undefined) return undefined;
  return token === "$" ? t : rest;
}

/** Envoy's default tag extractors, in TagNameValues order. */
function defaultExtractors(): Extractor[] {
  const re = (name: string, regex: string, substr?: string, negative?: string): Extractor =>
    regexExtractor(name, expand(regex), substr, negative);
  return [
    re("envoy.response_code", String.raw`_rq(_(\d{3}))$`, "_rq_"),
    re("envoy.response_code_class", String.raw`_rq_((\d))xx$`, "_rq_"),
    re("envoy.dynamo_partition_id", String.raw`^http\.<TAG_VALUE>\.dynamodb\.table\.<TAG_VALUE>\.capacity\.<TAG_VALUE>(\.__partition_id=(\w{7}))$`, ".dynamodb.table."),
    re("envoy.dynamo_operation", String.raw`^http\.<TAG_VALUE>\.dynamodb.(?:operation|table\.<TAG_VALUE>\.capacity)(\.(<TAG_VALUE>))(?:\.|$)`, ".dynamodb."),
    tokenExtractor("envoy.mongo_callsite", "mongo.*.collection.*.callsite.$.query.**"),
    re("envoy.dynamo_table", String.raw`^http\.<TAG_VALUE>\.dynamodb.(?:table|error)\.((<TAG_VALUE>)\.)`, ".dynamodb."),
    tokenExtractor("envoy.mongo_collection", "mongo.*.collection.$.**.query.*"),
    tokenExtractor("envoy.mongo_cmd", "mongo.*.cmd.$.**"),
    tokenExtractor("envoy.grpc_bridge_method", "cluster.*.grpc.*.$.**"),
    tokenExtractor("envoy.http_user_agent", "http.*.user_agent.$.**"),
    tokenExtractor("envoy.virtual_cluster", "vhost.*.vcluster.$.**"),
    tokenExtractor("envoy.fault_downstream_cluster", "http.*.fault.$.**"),
    re("envoy.ssl_cipher", String.raw`^listener\..*?\.ssl\.ciphers(\.(<CIPHER>))$`, ".ssl.ciphers."),
    re("envoy.ssl_curve", String.raw`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.curves(\.(<CIPHER>))$`, ".ssl.curves."),
    re("envoy.ssl_sigalg", String.raw`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.sigalgs(\.(<CIPHER>))$`, ".ssl.sigalgs."),
    re("envoy.ssl_version", String.raw`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.versions(\.(<TLS_VERSION>))$`, ".ssl.versions."),
    re("envoy.ssl_cipher_suite", String.raw`^cluster\.<TAG_VALUE>\.ssl\.ciphers(\.(<CIPHER>))$`, ".ssl.ciphers."),
    tokenExtractor("envoy.grpc_bridge_service", "cluster.*.grpc.$.**"),
    tokenExtractor("envoy.tcp_prefix", "tcp.$.**"),
    tokenExtractor("envoy.udp_prefix", "udp.$.**"),
    tokenExtractor("envoy.clientssl_prefix", "auth.clientssl.$.**"),
    tokenExtractor("envoy.ratelimit_prefix", "ratelimit.$.**"),
    tokenExtractor("envoy.cluster_name", "cluster.$.**"),
    re("envoy.http_conn_manager_prefix", String.raw`^listener\..*?\.http\.((<TAG_VALUE>)\.)`, ".http."),
    tokenExtractor("envoy.ext_authz_prefix", "cluster.*.ext_authz.$.**"),
    tokenExtractor("envoy.ext_authz_prefix", "http.*.ext_authz.$.**"),
    tokenExtractor("envoy.http_conn_manager_prefix", "http.$.**"),
    re("envoy.worker_id", String.raw`^(?:listener\.(?:<ADDRESS>|<TAG_VALUE>)\.|server\.|listener_manager\.)worker_((\d+)\.)`),
    re("envoy.listener_address", String.raw`^listener\.((<ADDRESS>|<TAG_VALUE>)\.)`, "", "admin"),
    tokenExtractor("envoy.virtual_host", "vhost.$.**"),
    tokenExtractor("envoy.mongo_prefix", "mongo.$.**"),
    re("envoy.rds_route_config", String.raw`^http\.<TAG_VALUE>\.rds\.((<ROUTE_CONFIG_NAME>)\.)\w+?$`, ".rds."),
    tokenExtractor("envoy.route", "vhost.*.route.$.**"),
    tokenExtractor("envoy.thrift_prefix", "thrift.$.**"),
    tokenExtractor("envoy.redis_prefix", "redis.$.**"),
    tokenExtractor("envoy.local_http_ratelimit_prefix", "$.http_local_rate_limit.**"),
    tokenExtractor("envoy.local_network_ratelimit_prefix", "local_rate_limit.$.**"),
    tokenExtractor("envoy.local_listener_ratelimit_prefix", "listener_local_ratelimit.$.**"),
    tokenExtractor("envoy.dns_filter_prefix", "dns_filter.$.**"),
  ];
}

export interface TagSpecifier {
  name: string;
  regex?: string;
  fixedValue?: string;
}

/** Envoy TagProducerImpl: default extractors (unless use_all_default_tags is false) plus stats_tags. */
export class TagProducer {
  private readonly withoutPrefix: Extractor[] = [];
  private readonly byPrefix = new Map<string, Extractor[]>();
  private readonly fixedTags: Tag[] = [];
  private readonly cache = new Map<string, TaggedName>();

  /** Throws an Error with Envoy's message for a conflicting or unresolvable stats_tags entry. */
  constructor(specifiers: readonly TagSpecifier[] = [], useAllDefaultTags = true) {
    const defaults = defaultExtractors();
    const names = new Set<string>();
    if (useAllDefaultTags) {
      for (const e of defaults) {
        this.add(e);
        names.add(e.name);
      }
    }
    for (const spec of specifiers) {
      if (names.has(spec.name)) throw new Error(`Tag name '${spec.name}' specified twice.`);
      if (spec.fixedValue !== undefined) {
        this.fixedTags.push({ name: spec.name, value: spec.fixedValue });
      } else if (!spec.regex) {
        const matching = defaults.filter((e) => e.name === spec.name);
        if (!matching.length) throw new Error(`No regex specified for tag specifier and no default regex for name: '${spec.name}'`);
        matching.forEach((e) => this.add(e));
      } else {
        this.add(regexExtractor(spec.name, spec.regex.replace(/\(\?P</g, "(?<")));
      }
    }
  }

  private add(e: Extractor): void {
    if (!e.prefix) {
      this.withoutPrefix.push(e);
      return;
    }
    const list = this.byPrefix.get(e.prefix);
    if (list) list.push(e);
    else this.byPrefix.set(e.prefix, [e]);
  }

  /** Envoy produceTags: tags in extraction order and the name with their characters removed. */
  produceTags(name: string): TaggedName {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const tags: Tag[] = [...this.fixedTags];
    const remove: Array<[number, number]> = [];
    for (const e of this.withoutPrefix) e.extract(name, tags, remove);
    const dot = name.indexOf(".");
    for (const e of this.byPrefix.get(dot < 0 ? name : name.slice(0, dot)) ?? []) e.extract(name, tags, remove);
    const result = { tagExtractedName: removeRanges(name, remove), tags };
    this.cache.set(name, result);
    return result;
  }
}

function removeRanges(name: string, ranges: Array<[number, number]>): string {
  if (!ranges.length) return name;
  const drop = new Uint8Array(name.length);
  for (const [s, e] of ranges) drop.fill(1, s, e);
  let out = "";
  for (let i = 0; i < name.length; i++) if (!drop[i]) out += name[i];
  return out;
}
