import { TestRepo } from "./repos.ts";

const LIB_BUGGY = `//! Small numeric helpers.

/// Adds two numbers.
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Limits x to [lo, hi].
pub fn clamp(x: i64, lo: i64, hi: i64) -> i64 {
    // bug: the upper bound is never applied
    let _ = hi;
    if x < lo { lo } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 3), 5);
    }
}
`;

const LIB_FIXED = LIB_BUGGY.replace(
  "    // bug: the upper bound is never applied\n    let _ = hi;\n    if x < lo { lo } else { x }",
  "    x.max(lo).min(hi)",
);

const CLAMP_TEST = `use calc::clamp;

#[test]
fn clamp_low() {
    assert_eq!(clamp(-5, 0, 10), 0);
}
`;

/** A Rust crate (no dependencies) whose PR #4 fixes clamp and adds an integration test in tests/clamp.rs. */
export function rustProject(): TestRepo {
  const r = new TestRepo("sweu-rs-");
  r.commit("Initial calc crate", {
    "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
    "src/lib.rs": LIB_BUGGY,
    "tests/clamp.rs": CLAMP_TEST,
    "tests/other.rs": "#[test]\nfn unrelated() {\n    assert_eq!(calc::add(1, 1), 2);\n}\n",
    ".gitignore": "target\n",
  });
  r.squashPr(4, "Fix clamp ignoring its upper bound", "Closes #1", {
    "src/lib.rs": LIB_FIXED,
    "tests/clamp.rs": `${CLAMP_TEST}
#[test]
fn clamp_high() {
    assert_eq!(clamp(50, 0, 10), 10);
}
`,
  });
  return r;
}
