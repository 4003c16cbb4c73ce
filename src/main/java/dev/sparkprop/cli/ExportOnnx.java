package dev.sparkprop.cli;

import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.command.Failures;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import java.io.PrintStream;
import java.util.Map;

/**
 * {@code export-onnx model=DIR}: writes model.onnx for a model saved before models held one, or
 * again where it was deleted or damaged. The model is loaded with every check but model.onnx's
 * and saved again in place (atomically, tensors and info unchanged), which writes model.onnx and
 * lists it in model.json. No Spark is started.
 */
public final class ExportOnnx {
  private ExportOnnx() {}

  static final Map<String, String> KEYS = CommandArgs.keys("model", null);

  public static void main(String[] args) {
    ExitCodes.exit(run(args, System.out));
  }

  public static int run(String[] args, PrintStream out) {
    try {
      CommandArgs a = CommandArgs.parse("export-onnx", args, KEYS);
      String dir = a.get("model");
      SavedModel model = ModelStore.loadWithoutOnnx(dir);
      ModelStore.save(dir, model, true);
      out.println("wrote " + dir + "/" + ModelStore.ONNX + " (" + model.spec() + ", input features (N, "
          + model.spec().inputSize() + "), output probabilities (N, " + model.spec().outputSize() + "))");
      return ExitCodes.OK;
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
  }
}
