// Envoy's HeaderParser::evaluateHeaders for request/response_headers_to_add/remove: removals
// first, then each value is formatted; empty values are skipped unless keep_empty_value; the
// append_action decides between appending and overwriting. Route, virtual host and route
// configuration parsers run in that order (most specific first, so the global level wins an
// overwrite, Envoy's default without most_specific_header_mutations_wins).
import type { HeaderFormatContext } from "../config/header-format.js";
import type { HeaderMutationModel, HeaderValueOptionModel } from "../config/model.js";
import type { HeaderMap } from "../http/header-map.js";

function evaluate(headers: HeaderMap, toAdd: HeaderValueOptionModel[], toRemove: string[], ctx: HeaderFormatContext): void {
  for (const h of toRemove) headers.remove(h);
  const overwrite: Array<[string, string]> = [];
  const append: Array<[string, string]> = [];
  for (const option of toAdd) {
    const value = option.value.render(ctx);
    if (!value && !option.keepEmptyValue) continue;
    const exists = headers.has(option.key);
    switch (option.appendAction) {
      case "APPEND_IF_EXISTS_OR_ADD":
        append.push([option.key, value]);
        break;
      case "ADD_IF_ABSENT":
        if (!exists) append.push([option.key, value]);
        break;
      case "OVERWRITE_IF_EXISTS":
        if (exists) overwrite.push([option.key, value]);
        break;
      case "OVERWRITE_IF_EXISTS_OR_ADD":
        overwrite.push([option.key, value]);
        break;
    }
  }
  for (const [k, v] of overwrite) headers.set(k, v);
  for (const [k, v] of append) headers.add(k, v);
}

export function finalizeRequestHeaders(headers: HeaderMap, levels: HeaderMutationModel[], ctx: HeaderFormatContext): void {
  for (const m of levels) evaluate(headers, m.requestHeadersToAdd, m.requestHeadersToRemove, ctx);
}

export function finalizeResponseHeaders(headers: HeaderMap, levels: HeaderMutationModel[], ctx: HeaderFormatContext): void {
  for (const m of levels) evaluate(headers, m.responseHeadersToAdd, m.responseHeadersToRemove, ctx);
}
