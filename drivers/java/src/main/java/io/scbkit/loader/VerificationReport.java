package io.scbkit.loader;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The result of verifying a bundle, check by check, in the order of the Go {@code verify}
 * package: detached_signature, archive, completeness, signature, manifest, chain, validity, consistency. Checksums
 * catch accidents, signatures catch attackers: the two are separate results. {@link #getOutcome()}
 * is {@link Outcome#VALID} or the outcome of the first failing check.
 */
public final class VerificationReport {
  /** One verification step. */
  public enum Check {
    DETACHED_SIGNATURE("detached_signature"),
    ARCHIVE("archive"),
    COMPLETENESS("completeness"),
    SIGNATURE("signature"),
    MANIFEST("manifest"),
    CHAIN("chain"),
    VALIDITY("validity"),
    CONSISTENCY("consistency");

    private final String wire;

    Check(String wire) {
      this.wire = wire;
    }

    @Override
    public String toString() {
      return wire;
    }

    /** The check's name in the vector corpus, e.g. {@code "signature"}. */
    public String wireName() {
      return wire;
    }
  }

  /** The status of one check. */
  public enum Status {
    PASS, WARN, FAIL, SKIP;

    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** The result of one check. */
  public static final class Result {
    private final Check check;
    private final Status status;
    private final Outcome outcome;
    private final String message;
    private final String path;

    Result(Check check, Status status, Outcome outcome, String message, String path) {
      this.check = check;
      this.status = status;
      this.outcome = outcome;
      this.message = message;
      this.path = path;
    }

    /** The check. */
    public Check getCheck() {
      return check;
    }

    /** Its status. */
    public Status getStatus() {
      return status;
    }

    /** The failure class; null unless the status is FAIL. */
    public Outcome getOutcome() {
      return outcome;
    }

    /** One line for people. */
    public String getMessage() {
      return message;
    }

    /** The bundle path concerned, or null. */
    public String getPath() {
      return path;
    }

    @Override
    public String toString() {
      return check + ": " + status + (outcome != null ? " (" + outcome + ")" : "") + ": " + message;
    }
  }

  private final Instant time;
  private final List<Result> results = new ArrayList<>();
  private final List<String> signedBy = new ArrayList<>();

  VerificationReport(Instant time) {
    this.time = time;
  }

  void add(Check c, Status s, Outcome o, String message, String path) {
    results.add(new Result(c, s, s == Status.FAIL ? o : null, message, path));
  }

  void fail(Check c, BundleException e) {
    add(c, Status.FAIL, e.getOutcome(), e.getMessage(), e.getPath());
  }

  boolean failed(Check c) {
    for (Result r : results) {
      if (r.check == c && r.status == Status.FAIL) {
        return true;
      }
    }
    return false;
  }

  void setSignedBy(List<String> ids) {
    signedBy.clear();
    signedBy.addAll(ids);
  }

  /** The verification time. */
  public Instant getTime() {
    return time;
  }

  /** Every result, in check order. */
  public List<Result> getResults() {
    return Collections.unmodifiableList(results);
  }

  /** True when no check failed. */
  public boolean isValid() {
    return getFirstFailure() == null;
  }

  /** The first failed result, or null. */
  public Result getFirstFailure() {
    for (Result r : results) {
      if (r.status == Status.FAIL) {
        return r;
      }
    }
    return null;
  }

  /** {@link Outcome#VALID}, or the outcome of the first failure. */
  public Outcome getOutcome() {
    Result f = getFirstFailure();
    return f == null ? Outcome.VALID : f.outcome;
  }

  /** The ids of the trusted keys whose signatures counted. */
  public List<String> getSignedBy() {
    return Collections.unmodifiableList(signedBy);
  }

  /** Throws a {@link BundleException} describing the first failure, if there is one. */
  public void throwIfInvalid() throws BundleException {
    Result f = getFirstFailure();
    if (f != null) {
      throw new BundleException(f.outcome, f.path, f.check + ": " + stripPath(f));
    }
  }

  private static String stripPath(Result f) {
    String m = f.message;
    if (f.path != null && m.startsWith(f.path + ": ")) {
      return m.substring(f.path.length() + 2);
    }
    return m;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("VerificationReport{" + getOutcome() + "}");
    for (Result r : results) {
      b.append("\n  ").append(r);
    }
    return b.toString();
  }
}
