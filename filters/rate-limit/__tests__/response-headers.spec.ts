// Rate-limit response header values computed from the bucket state.
import { BucketParams } from "../token-bucket";
import { HeaderList, RuleHeaderValues, addRateLimitHeaders, decimal } from "../response-headers";

const SECOND: i64 = 1_000_000_000;

function render(list: HeaderList): string {
  const parts = new Array<string>();
  for (let i = 0; i < list.headers.length; i++) parts.push(list.headers[i].name + ": " + list.headers[i].value);
  return parts.join("\n");
}

describe("rate-limit response headers", () => {
  it("writes x-ratelimit-* (draft 03) from the bucket level", () => {
    const p = new BucketParams(10, 1, 4 * SECOND);
    const values = new RuleHeaderValues("default", p);
    const out = new HeaderList();
    addRateLimitHeaders(out, values, p, 3 * p.unit, false);
    expect(render(out)).toBe("x-ratelimit-limit: 10\nx-ratelimit-remaining: 3\nx-ratelimit-reset: 0");
    const empty = new HeaderList();
    addRateLimitHeaders(empty, values, p, p.unit / 4, false);
    expect(render(empty)).toBe("x-ratelimit-limit: 10\nx-ratelimit-remaining: 0\nx-ratelimit-reset: 3");
  });

  it("writes RateLimit-Policy and RateLimit (IETF draft 10)", () => {
    const p = new BucketParams(10, 1, SECOND);
    const out = new HeaderList();
    addRateLimitHeaders(out, new RuleHeaderValues("per-user", p), p, 0, true);
    expect(render(out)).toBe("ratelimit-policy: \"per-user\";q=10;w=10\nratelimit: \"per-user\";r=0;t=1");
  });

  it("formats numbers, large ones too", () => {
    expect(decimal(0)).toBe("0");
    expect(decimal(1023)).toBe("1023");
    expect(decimal(1023)).toBe("1023", "cached");
    expect(decimal(4294967295)).toBe("4294967295");
  });
});
