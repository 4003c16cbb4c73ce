package dev.sparkprop.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;

/**
 * The header of an IDX file of unsigned bytes: magic {@code 0x000008NN} (NN = number of
 * dimensions) followed by NN big-endian int sizes. Images are {@code 0x00000803} (count, rows,
 * cols), labels {@code 0x00000801} (count).
 */
public final class IdxHeader {
  public static final int IMAGES_MAGIC = 0x00000803;
  public static final int LABELS_MAGIC = 0x00000801;

  private final String file;
  private final int[] dims;

  private IdxHeader(String file, int[] dims) {
    this.file = file;
    this.dims = dims;
  }

  /**
   * Reads and checks the header. {@code fileLength} (or -1 when unknown, e.g. compressed) is
   * checked against the sizes before anything is allocated, so a header that claims billions of
   * items fails here.
   */
  public static IdxHeader read(String file, DataInputStream in, int expectedMagic, long fileLength)
      throws IOException {
    int magic;
    try {
      magic = in.readInt();
    } catch (EOFException e) {
      throw new BadInputException(file + ": truncated: the file ends before its 4-byte IDX magic number");
    }
    if (magic != expectedMagic) {
      throw new BadInputException(String.format("%s: wrong magic number 0x%08x, expected 0x%08x (%s); "
          + "is this the right file?", file, magic, expectedMagic,
          expectedMagic == IMAGES_MAGIC ? "IDX images, unsigned bytes, 3 dimensions"
              : "IDX labels, unsigned bytes, 1 dimension"));
    }
    int n = magic & 0xff;
    int[] dims = new int[n];
    long items = 1;
    for (int i = 0; i < n; i++) {
      try {
        dims[i] = in.readInt();
      } catch (EOFException e) {
        throw new BadInputException(file + ": truncated: the header ends after " + i + " of " + n + " sizes");
      }
      if (dims[i] <= 0) {
        throw new BadInputException(file + ": size " + i + " in the header is " + dims[i] + ", expected a positive number");
      }
      items *= dims[i];
    }
    long headerBytes = 4L + 4L * n;
    if (fileLength >= 0 && headerBytes + items != fileLength) {
      throw new BadInputException(String.format("%s: the header declares %s items (%d data bytes), so the "
          + "file should be %d bytes, but it is %d bytes (%s)", file, describe(dims), items,
          headerBytes + items, fileLength, fileLength < headerBytes + items ? "truncated" : "trailing data"));
    }
    if (items > Integer.MAX_VALUE - 8) {
      throw new BadInputException(file + ": the header declares " + describe(dims) + " = " + items
          + " bytes, more than one array can hold; is the file corrupt?");
    }
    return new IdxHeader(file, dims);
  }

  private static String describe(int[] dims) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < dims.length; i++) sb.append(i == 0 ? "" : " x ").append(dims[i]);
    return sb.toString();
  }

  public String file() {
    return file;
  }

  public int count() {
    return dims[0];
  }

  /** Bytes per item: rows x cols for images, 1 for labels. */
  public int itemSize() {
    int s = 1;
    for (int i = 1; i < dims.length; i++) s *= dims[i];
    return s;
  }

  public int dim(int i) {
    return dims[i];
  }
}
