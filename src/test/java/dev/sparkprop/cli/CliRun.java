package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;

/** Runs a command's {@code run(args, out)} in-process, capturing stdout and stderr. */
record CliRun(int code, String out, String err) {
  static CliRun of(BiFunction<String[], PrintStream, Integer> command, String... args) {
    PrintStream savedErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = command.apply(args, new PrintStream(out, true, StandardCharsets.UTF_8));
    } finally {
      System.setErr(savedErr);
    }
    return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Checks the exit code and that stdout or stderr holds every part. */
  CliRun expect(int expectedCode, String... parts) {
    assertEquals(expectedCode, code, "stdout:\n" + out + "\nstderr:\n" + err);
    for (String p : parts) assertTrue((out + err).contains(p), "output lacks '" + p + "':\n" + out + err);
    return this;
  }
}
