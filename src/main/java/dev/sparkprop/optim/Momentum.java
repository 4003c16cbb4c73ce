package dev.sparkprop.optim;

/**
 * SGD with momentum, in PyTorch's form: {@code v = mu v + g; p -= lr v}; with Nesterov,
 * {@code p -= lr (g + mu v)}. With a constant learning rate this equals Keras' form.
 */
public final class Momentum extends Optimizer {
  private final float mu;
  private final boolean nesterov;

  public Momentum(double mu, boolean nesterov) {
    super("velocity");
    if (!(mu >= 0 && mu < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + mu);
    this.mu = (float) mu;
    this.nesterov = nesterov;
  }

  @Override
  protected void update(float[] params, float[] grad, double lr, float[][] state, long t) {
    float a = (float) lr;
    float[] v = state[0];
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
  }

  @Override
  public String describe() {
    return "momentum(" + mu + (nesterov ? ", nesterov)" : ")");
  }
}
