/* rt_abi.h - every runtime function that generated code calls, in one table.
 * The code generator declares them from it and the JIT registers their addresses from it,
 * so `grep rt_ runtime/rt_abi.h` is the whole interface between compiled code and libpplrt.
 *
 * X(name, return, params) with one letter per type:
 *   v void   n void and never returns   d double   i int64_t   p pointer
 * Booleans cross the boundary as int64_t 0/1. */
#ifndef PPL_RT_ABI_H
#define PPL_RT_ABI_H

#define RT_ABI(X) \
    /* output (rt_print.c) */ \
    X(rt_print_real, "v", "d") X(rt_print_int, "v", "i") X(rt_print_bool, "v", "i") \
    X(rt_print_string, "v", "p") X(rt_print_array, "v", "pii") X(rt_str_eq, "i", "pp") \
    X(rt_print_space, "v", "") X(rt_print_newline, "v", "") \
    /* arrays (rt_array.c) */ \
    X(rt_array_new, "p", "ii") X(rt_array_copy, "p", "pi") X(rt_range_len, "i", "iip") \
    X(rt_sum_real, "d", "p") X(rt_sum_int, "i", "p") \
    X(rt_mean_real, "d", "pp") X(rt_mean_int, "d", "pp") \
    X(rt_min_real, "d", "pp") X(rt_max_real, "d", "pp") \
    X(rt_min_int, "i", "pp") X(rt_max_int, "i", "pp") X(rt_logsumexp, "d", "p") \
    /* math (rt_math.c) */ \
    X(rt_exp, "d", "d") X(rt_log, "d", "d") X(rt_sqrt, "d", "d") X(rt_sin, "d", "d") \
    X(rt_cos, "d", "d") X(rt_tan, "d", "d") X(rt_atan, "d", "d") X(rt_tanh, "d", "d") \
    X(rt_lgamma, "d", "d") X(rt_log1p, "d", "d") X(rt_expm1, "d", "d") \
    X(rt_floor, "d", "d") X(rt_ceil, "d", "d") X(rt_pow, "d", "dd") \
    /* errors (rt_error.c, rt_stack.c), Ctrl-C in the REPL (rt_repl.c) */ \
    X(rt_fail, "n", "pp") X(rt_fail_index, "n", "pii") X(rt_interrupt, "n", "p") \
    X(rt_stack_check, "v", "pp") \
    /* data binding (rt_data.c) */ \
    X(rt_data_has, "i", "p") X(rt_data_real, "d", "pp") X(rt_data_int, "i", "pp") \
    X(rt_data_bool, "i", "pp") X(rt_data_array, "p", "piip") X(rt_data_mat, "p", "pp") \
    /* mats (rt_mat.c) */ \
    X(rt_mat_from_rows, "p", "pp") X(rt_mat_get, "d", "piip") X(rt_mat_vec, "p", "ppp") \
    X(rt_print_mat, "v", "p") X(rt_vi_matvec, "p", "ppp") X(rt_vi_mat, "p", "pp") \
    /* tensors (rt_tensor.c; rt_data.c's rt_data_tensor) */ \
    X(rt_tensor_full, "p", "diiiip") X(rt_tensor_randn, "p", "piiiip") X(rt_tensor_from_array, "p", "pip") \
    X(rt_tensor_to_array, "p", "p") X(rt_tensor_shape, "p", "p") X(rt_tensor_rank, "i", "p") \
    X(rt_tensor_numel, "i", "p") X(rt_tensor_get, "d", "piiiip") X(rt_tensor_reshape, "p", "piiiip") \
    X(rt_tensor_transpose, "p", "pp") X(rt_tensor_binop, "p", "ippp") X(rt_tensor_scalar, "p", "ipdip") \
    X(rt_tensor_matmul, "p", "ppp") X(rt_tensor_sum, "d", "p") X(rt_tensor_mean, "d", "pp") \
    X(rt_tensor_sum_axis, "p", "piip") X(rt_tensor_unary, "p", "ipp") X(rt_tensor_softmax, "p", "pip") \
    X(rt_tensor_norm, "p", "ppip") X(rt_tensor_rows, "p", "ppp") X(rt_tensor_concat, "p", "ppip") \
    X(rt_print_tensor, "v", "p") X(rt_data_tensor, "p", "pp") \
    /* tensors in gradient code, one tape node per operation (rt_tensor_ad.c) */ \
    X(rt_tad_full, "p", "iiiiip") X(rt_tad_from_array, "p", "pip") X(rt_tad_to_array, "p", "p") \
    X(rt_tad_get, "i", "piiiip") X(rt_tad_reshape, "p", "piiiip") X(rt_tad_transpose, "p", "pp") \
    X(rt_tad_binop, "p", "ippp") X(rt_tad_scalar, "p", "ipiip") X(rt_tad_matmul, "p", "ppp") \
    X(rt_tad_sum, "i", "p") X(rt_tad_mean, "i", "pp") X(rt_tad_sum_axis, "p", "piip") \
    X(rt_tad_unary, "p", "ipp") X(rt_tad_softmax, "p", "pip") X(rt_tad_norm, "p", "ppip") \
    X(rt_tad_rows, "p", "ppp") X(rt_tad_concat, "p", "ppip") \
    X(rt_tensor_obs_normal, "d", "ppddp") X(rt_tensor_obs_categorical_logits, "d", "pipp") \
    X(rt_tad_obs_normal, "i", "ppiip") X(rt_tad_obs_categorical_logits, "i", "pipp") \
    /* observing arrays (rt_observe.c) */ \
    X(rt_obs_normal, "d", "ppddp") X(rt_obs_bernoulli_logit, "d", "ppdp") \
    X(rt_vi_obs_normal, "i", "ppiip") X(rt_vi_obs_bernoulli_logit, "i", "ppip") \
    /* memory (rt_init.c) */ \
    X(rt_gc_root, "v", "p") X(rt_session_load, "i", "p") X(rt_session_store, "v", "pi") \
    /* models and inference (rt_infer.c, rt_posterior.c, rt_plot.c; rt_infer.h) */ \
    X(rt_frame_new, "p", "i") X(rt_record, "v", "piipd") X(rt_log_scale, "d", "pd") \
    X(rt_root_ctx, "p", "") X(rt_weight_overflow, "n", "ppdd") \
    /* the engines of RT_METHODS (rt_methods.h): (ctx, model, args, rt_infer_opts *, loc) */ \
    X(rt_infer_is, "p", "ppppp") X(rt_infer_smc, "p", "ppppp") X(rt_infer_vi, "p", "ppppp") \
    X(rt_infer_enumerate, "p", "ppppp") \
    X(rt_post_resamples, "i", "p") X(rt_post_ess_history, "p", "p") \
    X(rt_post_mean, "d", "pp") X(rt_post_sd, "d", "pp") X(rt_post_quantile, "d", "pdp") \
    X(rt_post_site_stat, "d", "ppidp") \
    X(rt_post_log_evidence, "d", "p") X(rt_post_ess, "d", "p") X(rt_print_posterior, "v", "p") \
    X(rt_post_pareto_k, "d", "p") X(rt_post_ancestors, "i", "p") X(rt_post_min_ess, "d", "p") \
    X(rt_post_weights, "p", "p") X(rt_post_values, "p", "p") \
    /* reverse-mode AD (rt_ad.c): gradient specializations pass reals as tape handles */ \
    X(rt_ad_const, "i", "d") X(rt_ad_value, "d", "i") \
    X(rt_ad_add, "i", "ii") X(rt_ad_sub, "i", "ii") X(rt_ad_mul, "i", "ii") X(rt_ad_div, "i", "ii") \
    X(rt_ad_pow, "i", "ii") X(rt_ad_min, "i", "ii") X(rt_ad_max, "i", "ii") X(rt_ad_neg, "i", "i") \
    X(rt_ad_exp, "i", "i") X(rt_ad_log, "i", "i") X(rt_ad_sqrt, "i", "i") X(rt_ad_sin, "i", "i") \
    X(rt_ad_cos, "i", "i") X(rt_ad_tan, "i", "i") X(rt_ad_atan, "i", "i") X(rt_ad_tanh, "i", "i") \
    X(rt_ad_lgamma, "i", "i") X(rt_ad_log1p, "i", "i") X(rt_ad_expm1, "i", "i") X(rt_ad_abs, "i", "i") \
    X(rt_ad_stop_grad, "i", "i") \
    /* gradient code: variational inference and score mode (rt_vi.c, rt_vi_eval.c, rt_score.c); \
     * the first "p" of a row that reads the fit or score is the evaluation context */ \
    X(rt_vi_add_prior, "v", "pi") X(rt_vi_add_lik, "v", "pi") X(rt_vi_add_reward, "v", "pi") \
    X(rt_vi_param, "i", "pi") X(rt_vi_param_array, "p", "pi") \
    X(rt_vi_init_real, "v", "pid") X(rt_vi_init_array, "v", "pip") \
    X(rt_vi_param_tensor, "p", "pi") X(rt_vi_init_tensor, "v", "pip") X(rt_vi_model_site, "i", "piipiiip") \
    X(rt_vi_guide_normal, "i", "piipiip") X(rt_vi_guide_lognormal, "i", "piipiip") \
    X(rt_vi_guide_score, "i", "piipiip") X(rt_vi_guide_score_int, "i", "piipiip") \
    X(rt_vi_values, "p", "p") X(rt_vi_enum_value, "i", "piip") X(rt_vi_guide_enum, "i", "piipiip") \
    X(rt_vi_draws, "p", "pip") X(rt_vi_stop_grad_array, "p", "p") \
    X(rt_vi_return, "v", "pi") X(rt_vi_return_value, "v", "pd") X(rt_vi_lift_array, "p", "pi") \
    X(rt_vi_sum, "i", "p") X(rt_vi_mean, "i", "pp") X(rt_vi_logsumexp, "i", "p") \
    X(rt_vi_lpmf_categorical, "i", "ipp") X(rt_vi_params, "p", "p") X(rt_vi_history, "p", "p") \
    X(rt_plot_posterior, "v", "pp") \
    /* replay and score modes at given values (rt_replay.c) */ \
    X(rt_replay_site, "i", "piipp") X(rt_logp_draw, "d", "pppip") X(rt_logp_values, "d", "ppppp") \
    X(rt_predict, "p", "ppppp")

/* Data symbols JIT-compiled code reads (declared in rt.h): generated code loads the i32
 * rt_interrupted at loop back-edges and calls rt_interrupt when it is set. */
#define RT_DATA(X) X(rt_interrupted)

/* The distributions' rt_sample_D and rt_lpdf_D come from RT_DISTRIBUTIONS in
 * rt_dist_table.h: the sampler takes (rt_rng *, parameters, loc), the log density
 * (value, parameters, loc); parameter letters are the table's. */

/* C library functions that LLVM itself may emit calls to. */
#define RT_LIBC(X) X(memcpy) X(memset) X(memmove)

#endif
