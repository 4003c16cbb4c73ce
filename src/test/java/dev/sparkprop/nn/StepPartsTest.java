package dev.sparkprop.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's breakdown of a pass: its network computes the same bits as a training network
 * (the clocks change nothing), and its parts are the reference CNN's, each measured, the first
 * convolution without an input gradient.
 */
class StepPartsTest {
  private static final NetworkSpec CNN = NetworkSpec.parse(
      "conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax",
      new NetworkSpec.Shape(1, 28, 28), Activation.RELU);

  @Test
  void theTimedNetworkComputesTheTrainingNetworksBits() {
    int rows = 20; // two chunks, the second short
    SplittableRandom rnd = new SplittableRandom(3);
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(CNN, 11);
    float[] x = new float[rows * CNN.inputSize()];
    for (int i = 0; i < x.length; i++) x[i] = rnd.nextInt(4) == 0 ? (float) rnd.nextDouble() : 0f;
    int[] labels = new int[rows];
    for (int i = 0; i < rows; i++) labels[i] = rnd.nextInt(10);
    float[] plain = pass(new Network(CNN, EjmlGemm.INSTANCE), params, x, labels, rows);
    StepTimes t = new StepTimes(CNN);
    float[] timed = pass(t.network(EjmlGemm.INSTANCE), params, x, labels, rows);
    assertArrayEquals(plain, timed);
    assertTrue(t.forward[0] > 0 && t.backward[2] > 0 && t.products[1][StepTimes.MULT] > 0 && t.products[0][StepTimes.MULT] > 0,
        "the head's stages and the dense products were timed");
  }

  @Test
  void theReferenceCnnsPartsAreEachMeasuredAndAddUp() {
    int rows = 16;
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(CNN, 5);
    float[] x = new float[rows * CNN.inputSize()];
    SplittableRandom rnd = new SplittableRandom(8);
    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble();
    int[] labels = new int[rows];
    Map<String, Double> parts = StepParts.measure(CNN, EjmlGemm.INSTANCE, params, x, labels, rows, 1, 3);
    assertEquals(List.of("conv1 forward product", "conv1 forward im2col, bias", "conv1 weight-gradient product",
        "conv1 input-gradient product", "conv1 backward bias, col2im", "pool1 forward (and the activation)",
        "pool1 backward (and the activation)", "conv2 forward product", "conv2 forward im2col, bias",
        "conv2 weight-gradient product", "conv2 input-gradient product", "conv2 backward bias, col2im",
        "pool2 forward (and the activation)", "pool2 backward (and the activation)", "head layout changes",
        "dense products", "dense rest, loss, chunk sums", "total"), List.copyOf(parts.keySet()));
    assertEquals(0.0, parts.get("conv1 input-gradient product"), "the network's input needs no gradient");
    for (Map.Entry<String, Double> e : parts.entrySet()) {
      if (!e.getKey().equals("conv1 input-gradient product")) assertTrue(e.getValue() > 0, e.getKey() + ": " + e.getValue());
    }
    double sum = parts.entrySet().stream().filter(e -> !e.getKey().equals("total")).mapToDouble(Map.Entry::getValue).sum();
    assertTrue(sum > 0.5 * parts.get("total") && sum < 2 * parts.get("total"),
        "the parts' medians come near the total's: " + sum + " against " + parts.get("total"));
  }

  private static float[] pass(Network net, float[] params, float[] x, int[] labels, int rows) {
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(rows).data, 0, x.length);
    float[] grad = new float[CNN.numParams()];
    net.forwardBackward(rows, labels, 0, grad);
    return grad;
  }
}
