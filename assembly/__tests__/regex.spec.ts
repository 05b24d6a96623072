// The RE2-subset matcher (match/regex.ts): RE2 semantics on accepted syntax, rejection with an
// offset for everything it does not support. (test/filters/retry-headers/regex.test.ts also
// compares it with JavaScript's RegExp on generated patterns and texts.)
import { REGEX_MAX_PROGRAM, Regex, compileRegex } from "../match/regex";

function re(pattern: string): Regex {
  const result = compileRegex(pattern);
  if (!result.ok) throw new Error("rejected " + pattern + ": " + result.describe());
  return result.regex!;
}

function full(pattern: string, text: string): bool {
  return re(pattern).fullMatchString(text);
}

function partial(pattern: string, text: string): bool {
  return re(pattern).partialMatchString(text);
}

function rejection(pattern: string): string {
  return compileRegex(pattern).describe();
}

describe("compileRegex: accepted syntax", () => {
  it("matches literals and concatenation in full", () => {
    expect(full("/api/v1", "/api/v1")).toBe(true);
    expect(full("/api/v1", "/api/v1/x")).toBe(false);
    expect(full("", "")).toBe(true);
    expect(full("", "a")).toBe(false);
  });

  it("finds a match anywhere with partialMatch", () => {
    expect(partial("v[0-9]", "/api/v2/x")).toBe(true);
    expect(partial("v[0-9]$", "/api/v2/x")).toBe(false);
    expect(partial("^/api", "/x/api")).toBe(false);
    expect(partial("", "anything")).toBe(true);
  });

  it("supports classes, ranges, negation and the Perl classes", () => {
    expect(full("[a-c_]+", "ab_c")).toBe(true);
    expect(full("[a-c_]+", "abd")).toBe(false);
    expect(full("[^/]+", "abc")).toBe(true);
    expect(full("[^/]+", "a/c")).toBe(false);
    expect(full("[]a]", "]")).toBe(true);
    expect(full("[a-]", "-")).toBe(true);
    expect(full("\\d{3}", "503")).toBe(true);
    expect(full("\\w+", "ab_9")).toBe(true);
    expect(full("\\s", "\t")).toBe(true);
    expect(full("\\s", "\x0B")).toBe(false); // RE2's \s has no \v
    expect(full("\\D\\W\\S", "a-b")).toBe(true);
    expect(full("[\\d-]+", "12-3")).toBe(true);
  });

  it("reads . and negated classes as one UTF-8 character, never . as \\n", () => {
    expect(full("/.", "/é")).toBe(true);
    expect(full("/..", "/é")).toBe(false);
    expect(full(".", "\n")).toBe(false);
    expect(full("[^a]", "\n")).toBe(true);
    expect(full("[^a]", "😀")).toBe(true);
    expect(full("é+", "ééé")).toBe(true); // the quantifier applies to the whole character
  });

  it("supports repetition, lazy forms and counted repeats", () => {
    expect(full("a*", "")).toBe(true);
    expect(full("a+", "")).toBe(false);
    expect(full("ab?c", "ac")).toBe(true);
    expect(full("a{2,3}", "aaa")).toBe(true);
    expect(full("a{2,3}", "aaaa")).toBe(false);
    expect(full("a{2,}", "aaaaa")).toBe(true);
    expect(full("a{2}", "aa")).toBe(true);
    expect(full("a*?b", "aab")).toBe(true);
    expect(full("(a|b){0}", "")).toBe(true);
    expect(full("a{,2}", "a{,2}")).toBe(true); // not a repeat: literal, as RE2 reads it
  });

  it("supports alternation, groups and named groups", () => {
    expect(full("/(users|items)/\\d+", "/items/42")).toBe(true);
    expect(full("/(?:users|items)/\\d+", "/orders/42")).toBe(false);
    expect(full("(?P<id>\\d+)-(?<rev>\\d+)", "12-3")).toBe(true);
    expect(full("a|", "")).toBe(true);
    expect(full("(a*)*", "aaa")).toBe(true);
  });

  it("anchors only at the ends of the text", () => {
    expect(full("^/a$", "/a")).toBe(true);
    expect(full("a^b", "ab")).toBe(false);
    expect(full("\\A/a\\z", "/a")).toBe(true);
    expect(partial("a$", "a\n")).toBe(false); // no Perl "before a final newline"
  });

  it("accepts escapes of punctuation, controls and hex", () => {
    expect(full("\\.\\*\\?\\(\\)\\[\\]\\{\\}\\|\\\\\\^\\$\\+\\/", ".*?()[]{}|\\^$+/")).toBe(true);
    expect(full("\\x41\\x{1F600}", "A😀")).toBe(true);
    expect(full("\\t\\n", "\t\n")).toBe(true);
  });

  it("treats a text with an invalid UTF-8 byte as unmatched by .", () => {
    const bytes = new ArrayBuffer(1);
    store<u8>(changetype<usize>(bytes), 0xff);
    expect(re(".").fullMatch(bytes)).toBe(false);
    expect(re("\\xff").fullMatch(bytes)).toBe(false); // \xff is U+00FF, two bytes in UTF-8
  });
});

describe("compileRegex: rejected syntax", () => {
  it("rejects what RE2 rejects, with the offset", () => {
    expect(rejection("a**")).toBe("bad repetition operator: ** at offset 1");
    expect(rejection("*a")).toBe("missing argument to repetition operator * at offset 0");
    expect(rejection("(ab")).toBe("missing closing ) at offset 0");
    expect(rejection("ab)")).toBe("unexpected ) at offset 2");
    expect(rejection("[ab")).toBe("missing closing ] at offset 0");
    expect(rejection("[b-a]")).toBe("invalid character class range at offset 1");
    expect(rejection("a{3,2}")).toBe("bad repetition operator: {n,m} with m < n at offset 1");
    expect(rejection("a{1001}")).toBe("bad repetition operator: count above 1000 at offset 1");
    expect(rejection("a\\")).toBe("trailing backslash at offset 1");
    expect(rejection("\\q")).toBe("invalid escape: \\q at offset 0");
  });

  it("rejects Perl and PCRE features RE2 does not have, instead of reading them differently", () => {
    expect(rejection("(a)\\1")).toBe("backreferences and octal escapes are not supported: \\1 at offset 3");
    expect(rejection("a(?=b)")).toBe("lookaround (?=, ?!, ?<=, ?<!) is not supported at offset 1");
    expect(rejection("(?i)abc")).toBe("flags and other (?...) groups are not supported at offset 0");
    expect(rejection("\\bword")).toBe("word boundaries \\b and \\B are not supported: \\b at offset 0");
    expect(rejection("\\pL")).toBe("Unicode classes \\p and \\P are not supported: \\p at offset 0");
    expect(rejection("[[:alpha:]]")).toBe("POSIX classes [:name:] are not supported (escape the [) at offset 1");
    expect(rejection("[é]")).toBe("non-ASCII characters in a character class are not supported at offset 1");
  });

  it("rejects patterns whose program would be too large", () => {
    const result = compileRegex("((a{100}){100}){100}");
    expect(result.ok).toBe(false);
    expect(result.error).toBe("pattern too large (more than " + REGEX_MAX_PROGRAM.toString() + " instructions)");
  });
});

describe("Regex: matching cost", () => {
  it("has a program linear in the pattern for nested stars (no exponential blow-up)", () => {
    const r = re("(a*)*(a*)*(a*)*b");
    expect(r.programSize).toBeLessThan(40);
    // A backtracking engine takes exponential time on this text; the NFA walks it once.
    expect(r.fullMatchString("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac")).toBe(false);
  });

  it("can be reused: matching leaves no state behind", () => {
    const r = re("/a+");
    expect(r.fullMatchString("/aaa")).toBe(true);
    expect(r.fullMatchString("/")).toBe(false);
    expect(r.fullMatchString("/a")).toBe(true);
  });
});
