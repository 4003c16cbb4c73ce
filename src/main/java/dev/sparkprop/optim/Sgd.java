package dev.sparkprop.optim;

/** Plain SGD: {@code p -= lr * g}, Keras' {@code SGD(learning_rate)} without momentum. */
public final class Sgd extends Optimizer {
  @Override
  protected void update(float[] params, float[] grad, double lr, float[][] state, long t) {
    float a = (float) lr;
    for (int i = 0; i < params.length; i++) params[i] -= a * grad[i];
  }

  @Override
  public String describe() {
    return "sgd";
  }
}
