/* builtins.h - the built-in functions the checker knows by name.
 * MATH_BUILTINS are real -> real and lower to one runtime call each; the others are checked
 * and lowered case by case. Adding a math function is one row here plus its rt_ function. */
#ifndef PPL_BUILTINS_H
#define PPL_BUILTINS_H

/* X(ID, "name", runtime function) */
#define MATH_BUILTINS(X) \
    X(EXP, "exp", rt_exp) X(LOG, "log", rt_log) X(SQRT, "sqrt", rt_sqrt) \
    X(SIN, "sin", rt_sin) X(COS, "cos", rt_cos) X(TAN, "tan", rt_tan) X(ATAN, "atan", rt_atan) \
    X(TANH, "tanh", rt_tanh) X(LGAMMA, "lgamma", rt_lgamma) X(LOG1P, "log1p", rt_log1p) \
    X(EXPM1, "expm1", rt_expm1) X(FLOOR, "floor", rt_floor) X(CEIL, "ceil", rt_ceil)

/* X(ID, "name") */
#define OTHER_BUILTINS(X) \
    X(PRINT, "print") X(LEN, "len") X(SUM, "sum") X(MEAN, "mean") X(MIN, "min") X(MAX, "max") \
    X(ABS, "abs") X(LOGSUMEXP, "logsumexp") X(DIV, "div") \
    X(SD, "sd") X(QUANTILE, "quantile") X(LPDF, "lpdf") X(PLOT, "plot") \
    X(ROWS, "rows") X(COLS, "cols") X(MAT, "mat") \
    X(DRAWS, "draws") X(STOP_GRAD, "stop_grad") X(FAIL, "fail") \
    X(LOGP, "logp") X(PREDICT, "predict") \
    TENSOR_BUILTINS(X)

/* Tensor operations (lang/check_tensor.c, compiler/cg_tensor.c); sum, mean, exp, log, tanh
 * and rows also take a tensor. */
#define TENSOR_BUILTINS(X) \
    X(ZEROS, "zeros") X(ONES, "ones") X(FULL, "full") X(RANDN, "randn") X(TENSOR, "tensor") \
    X(SHAPE, "shape") X(RANK, "rank") X(NUMEL, "numel") X(RESHAPE, "reshape") \
    X(TRANSPOSE, "transpose") X(MATMUL, "matmul") X(SIGMOID, "sigmoid") X(RELU, "relu") \
    X(SILU, "silu") X(GELU, "gelu") X(SOFTMAX, "softmax") X(LOG_SOFTMAX, "log_softmax") \
    X(RMSNORM, "rmsnorm") X(LAYERNORM, "layernorm") X(CONCAT, "concat") X(TO_ARRAY, "to_array")

typedef enum BuiltinId {
    BI_NONE,
#define X(id, name, fn) BI_##id,
    MATH_BUILTINS(X)
#undef X
#define X(id, name) BI_##id,
    OTHER_BUILTINS(X)
#undef X
    BI_COUNT
} BuiltinId;

#endif
