package dev.sparkprop.data;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * Decodes a PNG into MNIST-style pixels: a grayscale image of exactly the expected width and
 * height, values scaled to 0..255 (white digit on black, like MNIST; images are not inverted).
 * Anything else is refused with a message naming the file.
 */
public final class PngImage {
  private PngImage() {}

  public static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** @return width x height bytes, row-major */
  public static byte[] decode(String file, byte[] bytes, int width, int height) {
    if (bytes.length < 8 || !java.util.Arrays.equals(java.util.Arrays.copyOf(bytes, 8), SIGNATURE)) {
      throw new BadInputException(file + ": not a PNG file (no PNG signature)");
    }
    // The header first (IHDR: width, height, bit depth, colour type), so that a wrong image, a
    // 16-bit one or a decompression bomb of 60000x60000 pixels is refused before it is decoded.
    if (bytes.length < 33) throw new BadInputException(file + ": truncated PNG (" + bytes.length + " bytes, no complete header)");
    java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(bytes);
    long w = h.getInt(16) & 0xffffffffL;
    long hgt = h.getInt(20) & 0xffffffffL;
    int depth = bytes[24];
    int colour = bytes[25];
    if (colour != 0) {
      throw new BadInputException(file + ": colour type " + colour + " (" + (colour == 2 ? "RGB" : colour == 3 ? "palette"
          : colour == 4 ? "grayscale with alpha" : colour == 6 ? "RGB with alpha" : "unknown") + "), expected an 8-bit "
          + "grayscale PNG of " + width + "x" + height);
    }
    if (depth != 8) {
      throw new BadInputException(file + ": " + depth + "-bit grayscale, expected an 8-bit grayscale PNG of " + width + "x"
          + height + " (convert it first)");
    }
    if (w != width || hgt != height) {
      throw new BadInputException(file + ": " + w + "x" + hgt + " pixels, expected " + width + "x" + height + " (resize it first)");
    }
    BufferedImage img;
    try {
      img = ImageIO.read(new ByteArrayInputStream(bytes));
    } catch (IOException e) {
      throw new BadInputException(file + ": cannot decode the PNG: " + e.getMessage());
    }
    if (img == null) throw new BadInputException(file + ": cannot decode the PNG");
    int components = img.getColorModel().getNumComponents();
    if (components != 1) {
      throw new BadInputException(file + ": " + components + " colour components"
          + (img.getColorModel().hasAlpha() ? " (with alpha)" : "") + ", expected a grayscale PNG of "
          + width + "x" + height);
    }
    if (img.getWidth() != width || img.getHeight() != height) {
      throw new BadInputException(file + ": " + img.getWidth() + "x" + img.getHeight() + " pixels, expected "
          + width + "x" + height + " (resize it first)");
    }
    Raster r = img.getRaster();
    int bits = img.getColorModel().getComponentSize(0);
    int max = (1 << bits) - 1;
    byte[] out = new byte[width * height];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int v = r.getSample(x, y, 0);
        out[y * width + x] = (byte) (bits == 8 ? v : Math.round(v * 255.0 / max));
      }
    }
    return out;
  }
}
