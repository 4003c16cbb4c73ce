package dev.sparkprop.cli;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.data.PngImage;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What {@code data=} names: an IDX images file, a folder holding an IDX pair (the {@code split}
 * prefix, t10k by default), a PNG file, or a folder of PNG files.
 */
record InputImages(DataSpec idx, String pngPath) {
  /**
   * Finds the images and checks them against the model: IDX images must have its input size;
   * PNGs need a square input size.
   */
  static InputImages resolve(String data, String split, String labels, boolean needLabels,
      dev.sparkprop.nn.NetworkSpec model) throws IOException {
    InputImages in = find(data, split, labels, needLabels, model.outputSize());
    if (in.idx() != null && in.idx().features != model.inputSize()) {
      throw new BadInputException(in.idx().imagesPath + ": images have " + in.idx().features
          + " pixels, the model's input layer takes " + model.inputSize());
    }
    if (in.pngPath() != null && Predict.square(model.inputSize()) < 0) {
      throw new BadInputException("the model's input size " + model.inputSize() + " is not a square image");
    }
    return in;
  }

  private static InputImages find(String data, String split, String labels, boolean needLabels, int classes) throws IOException {
    Path p = new Path(data);
    FileSystem fs = p.getFileSystem(new Configuration());
    if (!fs.exists(p)) throw new BadInputException(data + ": no such file or folder");
    p = fs.makeQualified(p);
    FileStatus st = fs.getFileStatus(p);
    if (st.isDirectory()) {
      boolean png = false;
      for (FileStatus f : fs.listStatus(p)) png |= f.getPath().getName().toLowerCase(java.util.Locale.ROOT).endsWith(".png");
      if (png) {
        if (needLabels) throw new BadInputException(data + ": PNG images carry no labels; evaluate needs IDX images and labels");
        return new InputImages(null, p.toString());
      }
      String[] f = MnistFiles.locate(p.toString(), split);
      return new InputImages(needLabels || !labels.isEmpty() ? DataSpec.check(f[0], f[1], classes)
          : DataSpec.imagesOnly(f[0]), null);
    }
    byte[] head = new byte[8];
    try (InputStream in = fs.open(p)) {
      in.readNBytes(head, 0, 8);
    }
    if (java.util.Arrays.equals(head, PngImage.SIGNATURE)) {
      if (needLabels) throw new BadInputException(data + ": PNG images carry no labels; evaluate needs IDX images and labels");
      return new InputImages(null, p.toString());
    }
    if (p.getName().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
      throw new BadInputException(data + ": named .png, but it is not a PNG file (no PNG signature)");
    }
    if (!labels.isEmpty()) return new InputImages(DataSpec.check(p.toString(), labels, classes), null);
    if (needLabels) throw new BadInputException(data + ": an images file needs labels=LABELS_FILE (or give the folder)");
    return new InputImages(DataSpec.imagesOnly(p.toString()), null);
  }
}
