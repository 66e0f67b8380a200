package io.scbkit.loader;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

/**
 * Options for {@link SCBConfig#verify(TrustedKeys, VerifyOptions)} and {@link
 * SCBLoader#verify(java.nio.file.Path, TrustedKeys, VerifyOptions)}. Immutable; build with {@link
 * #builder()}. The defaults: the current time, one trusted signature required, a warning 30 days
 * before expiry, no key passphrase, default archive limits.
 */
public final class VerifyOptions {
  /** The defaults. */
  public static final VerifyOptions DEFAULT = builder().build();

  private final Instant now;
  private final int threshold;
  private final Duration expiryWarning;
  private final char[] keyPassphrase;
  private final boolean requireSignature;
  private final Limits limits;

  private VerifyOptions(Builder b) {
    this.now = b.now;
    this.threshold = Math.max(1, b.threshold);
    this.expiryWarning = b.expiryWarning;
    this.keyPassphrase = b.keyPassphrase == null ? null : b.keyPassphrase.clone();
    this.requireSignature = b.requireSignature;
    this.limits = b.limits;
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The verification time, or null for the current time. */
  public Instant now() {
    return now;
  }

  Instant resolvedNow() {
    return now == null ? Instant.now() : now;
  }

  /** How many distinct trusted keys must have signed (at least 1). */
  public int threshold() {
    return threshold;
  }

  /** Certificates expiring within this of the verification time give a warning. */
  public Duration expiryWarning() {
    return expiryWarning;
  }

  char[] keyPassphrase() {
    return keyPassphrase;
  }

  /** Whether a signature is required even when no trusted keys are given. */
  public boolean requireSignature() {
    return requireSignature;
  }

  /** The archive limits. */
  public Limits limits() {
    return limits;
  }

  /** Never shows the passphrase. */
  @Override
  public String toString() {
    return "VerifyOptions{now=" + now + ", threshold=" + threshold + ", expiryWarning=" + expiryWarning
        + ", keyPassphrase=" + (keyPassphrase == null ? "<none>" : "<redacted>") + ", requireSignature=" + requireSignature + "}";
  }

  /** Builds {@link VerifyOptions}. */
  public static final class Builder {
    private Instant now;
    private int threshold = 1;
    private Duration expiryWarning = Duration.ofDays(30);
    private char[] keyPassphrase;
    private boolean requireSignature;
    private Limits limits = Limits.DEFAULT;

    private Builder() {}

    /** The verification time for certificates and key windows (null: the current time). */
    public Builder now(Instant now) {
      this.now = now;
      return this;
    }

    /** How many distinct trusted keys must have signed. */
    public Builder threshold(int threshold) {
      this.threshold = threshold;
      return this;
    }

    /** Warn about certificates expiring within this duration (zero or negative: never warn). */
    public Builder expiryWarning(Duration d) {
      this.expiryWarning = d;
      return this;
    }

    /** Opens an encrypted certificates/client-key.pem for the consistency check (copied). */
    public Builder keyPassphrase(char[] passphrase) {
      if (this.keyPassphrase != null) {
        Arrays.fill(this.keyPassphrase, '\0');
      }
      this.keyPassphrase = passphrase == null ? null : passphrase.clone();
      return this;
    }

    /** Fail (outcome "error") instead of skipping the signature check when no keys are given. */
    public Builder requireSignature(boolean require) {
      this.requireSignature = require;
      return this;
    }

    /** Archive limits for {@link SCBLoader#verify}. */
    public Builder limits(Limits limits) {
      this.limits = limits == null ? Limits.DEFAULT : limits;
      return this;
    }

    /** The options. */
    public VerifyOptions build() {
      return new VerifyOptions(this);
    }
  }
}
