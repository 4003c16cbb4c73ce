package dev.sparkprop.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Opens IDX files through Hadoop's FileSystem API (local paths, {@code file://}, {@code hdfs://},
 * {@code s3a://}), plain or gzip-compressed (recognised by its magic bytes, whatever the name).
 */
public final class IdxFiles {
  private IdxFiles() {}

  /** An open IDX file positioned after its checked header. */
  public static final class Opened implements AutoCloseable {
    public final IdxHeader header;
    public final DataInputStream in;
    /** True when the file's length was checked against the header (not compressed). */
    public final boolean lengthChecked;

    Opened(IdxHeader header, DataInputStream in, boolean lengthChecked) {
      this.header = header;
      this.in = in;
      this.lengthChecked = lengthChecked;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  public static Opened open(String path, int expectedMagic) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(new Configuration());
    FileStatus st;
    try {
      st = fs.getFileStatus(p);
    } catch (java.io.FileNotFoundException e) {
      throw new BadInputException(path + ": no such file");
    }
    if (st.isDirectory()) throw new BadInputException(path + ": is a directory, expected an IDX file");
    InputFile.check(fs, p);
    InputStream raw;
    try {
      raw = new BufferedInputStream(fs.open(p), 1 << 16);
    } catch (IOException e) {
      String denied = InputFile.deniedMessage(p, e);
      if (denied != null) throw new BadInputException(denied, e);
      throw e;
    }
    raw.mark(2);
    int b0 = raw.read();
    int b1 = raw.read();
    raw.reset();
    boolean gz = b0 == 0x1f && b1 == 0x8b;
    InputStream in = gz ? new BufferedInputStream(new Gunzip(path, raw), 1 << 16) : raw;
    DataInputStream din = new DataInputStream(in);
    try {
      IdxHeader h = IdxHeader.read(path, din, expectedMagic, gz ? -1 : st.getLen());
      return new Opened(h, din, !gz);
    } catch (RuntimeException | IOException e) {
      din.close();
      throw e;
    }
  }

  /**
   * Decompresses a gzip file and says which file is truncated or corrupt (the JDK's
   * {@code EOFException: Unexpected end of ZLIB input stream} and {@code ZipException} name none).
   */
  private static final class Gunzip extends java.io.FilterInputStream {
    private final String path;

    Gunzip(String path, InputStream raw) throws IOException {
      super(open(path, raw));
      this.path = path;
    }

    private static InputStream open(String path, InputStream raw) throws IOException {
      try {
        return new GZIPInputStream(raw, 1 << 16);
      } catch (java.util.zip.ZipException | java.io.EOFException e) {
        throw bad(path, e);
      }
    }

    private static BadInputException bad(String path, IOException e) {
      return new BadInputException(path + (e instanceof java.io.EOFException ? ": truncated gzip file (" : ": corrupt gzip file (")
          + e.getMessage() + "); fetch or compress it again");
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (java.util.zip.ZipException | java.io.EOFException e) {
        throw bad(path, e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (java.util.zip.ZipException | java.io.EOFException e) {
        throw bad(path, e);
      }
    }
  }

  /**
   * Reads a compressed file through to its end, so that a truncated or corrupt gzip file, or one
   * whose item count does not match its header, is refused before Spark starts (a plain file's
   * length was checked against the header when it was opened).
   */
  public static void verifyWhole(String path, int expectedMagic) throws IOException {
    try (Opened o = open(path, expectedMagic)) {
      if (o.lengthChecked) return;
      byte[] buf = new byte[1 << 16];
      long total = (long) o.header.count() * o.header.itemSize();
      long done = 0;
      while (done < total) {
        int k = (int) Math.min(buf.length, total - done);
        readFully(o, buf, 0, k, done / Math.max(1, o.header.itemSize()));
        done += k;
      }
      expectEnd(o);
    }
  }

  /** The header alone (and the length check), for validation before Spark starts. */
  public static IdxHeader header(String path, int expectedMagic) throws IOException {
    try (Opened o = open(path, expectedMagic)) {
      return o.header;
    }
  }

  /** Reads {@code n} bytes of data, failing with a message naming the file if it ends early. */
  static void readFully(Opened o, byte[] dst, int off, int n, long itemIndex) throws IOException {
    int done = 0;
    while (done < n) {
      int r = o.in.read(dst, off + done, n - done);
      if (r < 0) {
        throw new BadInputException(o.header.file() + ": truncated: the data ends at item " + itemIndex
            + " of the " + o.header.count() + " the header declares");
      }
      done += r;
    }
  }

  /** Checks that nothing follows the declared items (needed for compressed files, whose length is unknown). */
  static void expectEnd(Opened o) throws IOException {
    if (o.in.read() >= 0) {
      // A gzip stream damaged in the middle often inflates to more bytes than it held: read on to
      // its end, where the checksum names the damage (a corrupt gzip file) before "trailing data".
      if (!o.lengthChecked) o.in.transferTo(java.io.OutputStream.nullOutputStream());
      throw new BadInputException(o.header.file() + ": trailing data after the " + o.header.count()
          + " items the header declares");
    }
  }

  /**
   * Reads a whole label file, checking every label is in [0, numClasses).
   *
   * @return one label per item, as ints
   */
  public static int[] readLabels(String path, int numClasses) throws IOException {
    try (Opened o = open(path, IdxHeader.LABELS_MAGIC)) {
      int n = o.header.count();
      byte[] buf = new byte[Math.min(n, 1 << 16)];
      // A compressed file's header is not checked against its length: grow with the data read,
      // so a header that lies about the count cannot make us allocate for it.
      int[] labels = new int[o.lengthChecked ? n : Math.min(n, 1 << 20)];
      int done = 0;
      while (done < n) {
        int k = Math.min(buf.length, n - done);
        if (done + k > labels.length) labels = java.util.Arrays.copyOf(labels, (int) Math.min(n, 2L * labels.length));
        readFully(o, buf, 0, k, done);
        for (int i = 0; i < k; i++) {
          int y = buf[i] & 0xff;
          if (y >= numClasses) {
            throw new BadInputException(path + ": label " + y + " at item " + (done + i)
                + " is outside the class range [0, " + numClasses + ")");
          }
          labels[done + i] = y;
        }
        done += k;
      }
      expectEnd(o);
      return labels;
    }
  }
}
