package dev.sparkprop.optim;

/**
 * Adam (Kingma and Ba), with bias correction:
 * {@code m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * mhat / (sqrt(vhat) + eps)}.
 */
public final class Adam implements Optimizer {
  private final float beta1;
  private final float beta2;
  private final float eps;
  private float[] m;
  private float[] v;
  private long t;

  public Adam(double beta1, double beta2, double eps) {
    if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("adam.beta1 must be in [0, 1), got " + beta1);
    if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("adam.beta2 must be in [0, 1), got " + beta2);
    if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
    this.beta1 = (float) beta1;
    this.beta2 = (float) beta2;
    this.eps = (float) eps;
  }

  @Override
  public void step(float[] params, float[] grad, double lr) {
    if (m == null) {
      m = new float[params.length];
      v = new float[params.length];
    }
    t++;
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
    Subnormals.flush(m, t);
    Subnormals.flush(v, t);
  }

  @Override
  public java.util.List<String> stateArrays() {
    return java.util.List.of("m", "v");
  }

  @Override
  public float[][] liveState(int numParams) {
    if (m == null) {
      m = new float[numParams];
      v = new float[numParams];
    }
    return new float[][] {m, v};
  }

  @Override
  public long steps() {
    return t;
  }

  @Override
  public void setSteps(long steps) {
    this.t = steps;
  }

  @Override
  public OptimizerState state() {
    java.util.Map<String, float[]> arrays = new java.util.LinkedHashMap<>();
    if (m != null) {
      arrays.put("m", m.clone());
      arrays.put("v", v.clone());
    }
    return new OptimizerState(t, arrays);
  }

  @Override
  public void restore(OptimizerState state, int numParams) {
    m = Optimizer.restored(state, "m", numParams);
    v = Optimizer.restored(state, "v", numParams);
    t = state.steps();
  }

  @Override
  public String describe() {
    return "adam(beta1=" + beta1 + ", beta2=" + beta2 + ", eps=" + eps + ")";
  }
}
