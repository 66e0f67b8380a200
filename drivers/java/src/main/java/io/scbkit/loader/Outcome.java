package io.scbkit.loader;

/**
 * The language-neutral class of a verification or loading result. The names are those of the
 * shared vector corpus ({@code spec/vectors/vectors.json}) and of the Go {@code verify} package:
 * {@link #wireName()} returns them.
 */
public enum Outcome {
  /** Every check passed. */
  VALID("valid"),
  /** Verification could not run (I/O, configuration, a runtime without the needed algorithm). */
  ERROR("error"),
  /** The input is not a readable zip, tar.gz or bundle directory, or has duplicate entries. */
  MALFORMED_ARCHIVE("malformed_archive"),
  /** An entry name is absolute, contains "..", a backslash, a control character or is not clean. */
  UNSAFE_PATH("unsafe_path"),
  /** A size or count limit ({@link Limits}) was exceeded. */
  TOO_LARGE("too_large"),
  /** An entry is a link, device or other non-regular file. */
  UNSUPPORTED_ENTRY("unsupported_entry"),
  /** A required file is missing or empty. */
  INCOMPLETE("incomplete"),
  /** metadata.json cannot be read. */
  MALFORMED_METADATA("malformed_metadata"),
  /** Trusted keys were given but the bundle carries no signature. */
  UNSIGNED("unsigned"),
  /** signatures/manifest.dsse.json is not a well-formed envelope. */
  MALFORMED_SIGNATURE("malformed_signature"),
  /** A signature by a trusted key does not verify, or the signed payload is not this manifest. */
  BAD_SIGNATURE("bad_signature"),
  /** No signature is by a trusted key. */
  UNKNOWN_SIGNER("unknown_signer"),
  /** The only trusted keys that signed are outside their validity window (nbf/exp). */
  KEY_OUTSIDE_VALIDITY("key_outside_validity"),
  /** manifest.json is malformed or not canonical. */
  MALFORMED_MANIFEST("malformed_manifest"),
  /** A file does not match manifest.json, or a file is not covered by it. */
  DIGEST_MISMATCH("digest_mismatch"),
  /** The client certificate does not chain to certificates/ca-cert.pem for client authentication. */
  CHAIN_INVALID("chain_invalid"),
  /** A certificate of the chain has expired. */
  EXPIRED("expired"),
  /** A certificate of the chain is not valid yet. */
  NOT_YET_VALID("not_yet_valid"),
  /** Files that must agree (PEM, PKCS#12, JKS, config.json, metadata.json) do not. */
  INCONSISTENT("inconsistent");

  private final String wire;

  Outcome(String wire) {
    this.wire = wire;
  }

  /** The outcome's name in the vector corpus, e.g. {@code "digest_mismatch"}. */
  public String wireName() {
    return wire;
  }

  /** The outcome with the given vector-corpus name. */
  public static Outcome fromWireName(String name) {
    for (Outcome o : values()) {
      if (o.wire.equals(name)) {
        return o;
      }
    }
    throw new IllegalArgumentException("unknown outcome " + Json.quote(String.valueOf(name)));
  }

  @Override
  public String toString() {
    return wire;
  }
}
