package dev.sparkprop.optim;

/**
 * Adam (Kingma and Ba), with bias correction:
 * {@code m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * mhat / (sqrt(vhat) + eps)}.
 */
public final class Adam extends Optimizer {
  private final float beta1;
  private final float beta2;
  private final float eps;

  public Adam(double beta1, double beta2, double eps) {
    super("m", "v");
    if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("adam.beta1 must be in [0, 1), got " + beta1);
    if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("adam.beta2 must be in [0, 1), got " + beta2);
    if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
    this.beta1 = (float) beta1;
    this.beta2 = (float) beta2;
    this.eps = (float) eps;
  }

  @Override
  protected void update(float[] params, float[] grad, double lr, float[][] state, long t) {
    float[] m = state[0];
    float[] v = state[1];
    double c1 = 1 - Math.pow(beta1, t);
    double c2 = 1 - Math.pow(beta2, t);
    // Folding the corrections into the step size: lr_t = lr sqrt(1-b2^t) / (1-b1^t), eps scaled to match.
    float stepSize = (float) (lr * Math.sqrt(c2) / c1);
    float epsHat = (float) (eps * Math.sqrt(c2));
    for (int i = 0; i < params.length; i++) {
      float g = grad[i];
      m[i] = beta1 * m[i] + (1f - beta1) * g;
      v[i] = beta2 * v[i] + (1f - beta2) * g * g;
      params[i] -= stepSize * m[i] / ((float) Math.sqrt(v[i]) + epsHat);
    }
  }

  @Override
  public String describe() {
    return "adam(beta1=" + beta1 + ", beta2=" + beta2 + ", eps=" + eps + ")";
  }
}
