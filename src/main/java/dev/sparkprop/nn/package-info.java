/**
 * The network and its kernels: layer specifications and shape inference ({@code
 * NetworkSpec}), the forward and backward pass on reusable buffers ({@code
 * Network}, the convolution head {@code ConvHead} with its {@code ConvStage} and {@code
 * PoolStage}), losses, activations, initialisation, and the matrix-product kernels behind {@code
 * Gemm} (EJML, the bundled OpenBLAS, a system BLAS, netlib's Java BLAS) with the
 * probe that picks one. Pure numeric code: imports no Spark and no other sparkprop package.
 */
package dev.sparkprop.nn;
