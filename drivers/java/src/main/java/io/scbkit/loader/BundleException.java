package io.scbkit.loader;

import java.io.IOException;

/**
 * A bundle was rejected, or could not be read. {@link #getOutcome()} classifies the problem with
 * the same names as the shared vector corpus and the other languages' loaders; {@link #getPath()}
 * names the bundle file concerned, when there is one. Messages never contain key material,
 * passwords or passphrases.
 */
public class BundleException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Outcome outcome;
  private final String path;

  /** A rejection with the given class, bundle path (may be null) and message. */
  public BundleException(Outcome outcome, String path, String message) {
    this(outcome, path, message, null);
  }

  /** A rejection with a cause. */
  public BundleException(Outcome outcome, String path, String message, Throwable cause) {
    super(path == null || path.isEmpty() ? message : path + ": " + message, cause);
    this.outcome = outcome;
    this.path = path;
  }

  /** The class of the problem. */
  public Outcome getOutcome() {
    return outcome;
  }

  /** The path inside the bundle the problem concerns, or null. */
  public String getPath() {
    return path;
  }
}
