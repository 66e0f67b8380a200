package io.scbkit.loader;

/**
 * Bounds on what is read from an untrusted archive or directory. The defaults are those of the Go
 * reader: 1000 files, 8 MiB per file, 64 MiB in total; an archive file itself may be at most the
 * total plus 1 MiB. Instances are immutable.
 */
public final class Limits {
  /** The defaults. */
  public static final Limits DEFAULT = new Limits(1000, 8L << 20, 64L << 20);

  private final int maxFiles;
  private final long maxFileSize;
  private final long maxTotalSize;

  /**
   * Limits with the given values; zero or negative values take the default.
   *
   * @param maxFiles the maximum number of entries
   * @param maxFileSize the maximum size of one file in bytes
   * @param maxTotalSize the maximum sum of file sizes in bytes
   */
  public Limits(int maxFiles, long maxFileSize, long maxTotalSize) {
    this.maxFiles = maxFiles > 0 ? maxFiles : 1000;
    this.maxFileSize = maxFileSize > 0 ? maxFileSize : 8L << 20;
    this.maxTotalSize = maxTotalSize > 0 ? maxTotalSize : 64L << 20;
  }

  /** The maximum number of entries. */
  public int maxFiles() {
    return maxFiles;
  }

  /** The maximum size of one file. */
  public long maxFileSize() {
    return maxFileSize;
  }

  /** The maximum sum of file sizes. */
  public long maxTotalSize() {
    return maxTotalSize;
  }

  /** The largest archive file read into memory: the total plus 1 MiB. */
  public long maxArchiveSize() {
    return maxTotalSize + (1L << 20);
  }

  @Override
  public String toString() {
    return "Limits{maxFiles=" + maxFiles + ", maxFileSize=" + maxFileSize + ", maxTotalSize=" + maxTotalSize + "}";
  }
}
