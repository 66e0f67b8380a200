package io.scbkit.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Runs every vector of spec/vectors/vectors.json and checks outcome, failing check and signers. */
class VectorsTest {
  private static final Path VECTORS = TestPaths.repoRoot().resolve("spec/vectors");

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> vectors() throws Exception {
    Map<String, Object> idx = Json.parseObject(Files.readAllBytes(VECTORS.resolve("vectors.json")), false);
    assertEquals("scbkit-test-vectors/1", idx.get("format"));
    return (List<Map<String, Object>>) (List<?>) idx.get("vectors");
  }

  @Test
  void corpusIsThere() throws Exception {
    assertTrue(vectors().size() >= 30, "expected the full vector corpus, found " + vectors().size());
  }

  @TestFactory
  Stream<DynamicTest> vectorsGiveTheirOutcome() throws Exception {
    List<DynamicTest> tests = new ArrayList<>();
    for (Map<String, Object> v : vectors()) {
      tests.add(DynamicTest.dynamicTest((String) v.get("name"), () -> run(v)));
    }
    return tests.stream();
  }

  @SuppressWarnings("unchecked")
  private static void run(Map<String, Object> v) throws Exception {
    TrustedKeys keys = null;
    if (v.get("trusted_keys") instanceof String) {
      keys = TrustedKeys.read(VECTORS.resolve((String) v.get("trusted_keys")));
    }
    Map<String, Object> lim = (Map<String, Object>) v.get("limits");
    Limits limits = new Limits(
        Integer.parseInt(lim.get("max_files").toString()),
        Long.parseLong(lim.get("max_file_size").toString()),
        Long.parseLong(lim.get("max_total_size").toString()));
    VerifyOptions opts = VerifyOptions.builder()
        .now(Instant.parse((String) v.get("verify_at")))
        .threshold(Integer.parseInt(v.get("threshold").toString()))
        .limits(limits)
        .build();
    Path sig = v.get("detached_signature") instanceof String ? VECTORS.resolve((String) v.get("detached_signature")) : null;
    VerificationReport r = SCBLoader.verify(VECTORS.resolve((String) v.get("file")), sig, keys, opts);
    Map<String, Object> expect = (Map<String, Object>) v.get("expect");
    String name = (String) v.get("name");
    assertEquals(expect.get("outcome"), r.getOutcome().wireName(), name + ": " + r);
    Object check = expect.get("check");
    if (check == null || check == Json.NULL) {
      assertNull(r.getFirstFailure(), name + ": " + r);
    } else {
      assertEquals(check, r.getFirstFailure().getCheck().wireName(), name + ": " + r);
    }
    if (expect.get("signers") instanceof List) {
      assertEquals(expect.get("signers"), r.getSignedBy(), name + ": " + r);
    }
  }
}
