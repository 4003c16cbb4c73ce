package dev.sparkprop.optim;

/** Plain SGD: {@code p -= lr * g}, Keras' {@code SGD(learning_rate)} without momentum. */
public final class Sgd implements Optimizer {
  @Override
  public void step(float[] params, float[] grad, double lr) {
    float a = (float) lr;
    for (int i = 0; i < params.length; i++) params[i] -= a * grad[i];
    steps++;
  }

  private long steps;

  @Override
  public java.util.List<String> stateArrays() {
    return java.util.List.of();
  }

  @Override
  public float[][] liveState(int numParams) {
    return new float[0][];
  }

  @Override
  public long steps() {
    return steps;
  }

  @Override
  public void setSteps(long steps) {
    this.steps = steps;
  }

  @Override
  public OptimizerState state() {
    return new OptimizerState(steps, java.util.Map.of());
  }

  @Override
  public void restore(OptimizerState state, int numParams) {
    if (!state.arrays().isEmpty()) throw new IllegalArgumentException("sgd has no state arrays, got " + state.arrays().keySet());
    steps = state.steps();
  }

  @Override
  public String describe() {
    return "sgd";
  }
}
