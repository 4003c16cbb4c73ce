package dev.sparkprop.optim;

/**
 * SGD with momentum, in PyTorch's form: {@code v = mu v + g; p -= lr v}; with Nesterov,
 * {@code p -= lr (g + mu v)}. With a constant learning rate this equals Keras' form.
 */
public final class Momentum implements Optimizer {
  private final float mu;
  private final boolean nesterov;
  private float[] velocity;
  private long steps;

  public Momentum(double mu, boolean nesterov) {
    if (!(mu >= 0 && mu < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + mu);
    this.mu = (float) mu;
    this.nesterov = nesterov;
  }

  @Override
  public void step(float[] params, float[] grad, double lr) {
    if (velocity == null) velocity = new float[params.length];
    steps++;
    float a = (float) lr;
    float[] v = velocity;
    if (nesterov) {
      for (int i = 0; i < params.length; i++) {
        v[i] = mu * v[i] + grad[i];
        params[i] -= a * (grad[i] + mu * v[i]);
      }
    } else {
      for (int i = 0; i < params.length; i++) {
        v[i] = mu * v[i] + grad[i];
        params[i] -= a * v[i];
      }
    }
    Subnormals.flush(v, steps);
  }

  @Override
  public java.util.List<String> stateArrays() {
    return java.util.List.of("velocity");
  }

  @Override
  public float[][] liveState(int numParams) {
    if (velocity == null) velocity = new float[numParams];
    return new float[][] {velocity};
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
    return new OptimizerState(steps, velocity == null ? java.util.Map.of() : java.util.Map.of("velocity", velocity.clone()));
  }

  @Override
  public void restore(OptimizerState state, int numParams) {
    velocity = Optimizer.restored(state, "velocity", numParams);
    steps = state.steps();
  }

  @Override
  public String describe() {
    return "momentum(" + mu + (nesterov ? ", nesterov)" : ")");
  }
}
