package io.scbkit.loader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locates the repository for tests: SCB_REPO_ROOT, or the nearest parent holding go.mod and spec/. */
final class TestPaths {
  private TestPaths() {}

  static Path repoRoot() {
    String env = System.getenv("SCB_REPO_ROOT");
    if (env != null && !env.isEmpty()) {
      return Paths.get(env).toAbsolutePath();
    }
    Path p = Paths.get("").toAbsolutePath();
    while (p != null) {
      if (Files.exists(p.resolve("go.mod")) && Files.isDirectory(p.resolve("drivers"))) {
        return p;
      }
      p = p.getParent();
    }
    throw new IllegalStateException("cannot find the repository root (set SCB_REPO_ROOT)");
  }

  static boolean ci() {
    String ci = System.getenv("CI");
    return ci != null && !ci.isEmpty() && !ci.equals("false") && !ci.equals("0");
  }
}
