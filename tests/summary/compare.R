# compare.R - `ppl summary` against R's posterior package (summarise_draws) on chains made
# here. Usage: Rscript tests/summary/compare.R PPL DIR (DIR: scratch space). Exit 1 on a difference.
suppressMessages(library(posterior))
args <- commandArgs(trailingOnly = TRUE)
ppl <- args[1]
dir <- args[2]

ar1 <- function(n, phi) {
  x <- numeric(n)
  x[1] <- rnorm(1)
  for (i in seq_len(n)[-1]) x[i] <- phi * x[i - 1] + sqrt(1 - phi^2) * rnorm(1)
  x
}

# iterations x chains x variables; chain 2 of `shifted` is off by 0.7.
make_draws <- function(nchains, n) {
  vars <- c("lp__", "mu", "sigma", "shifted", "tie", "theta.1")
  a <- array(NA_real_, c(n, nchains, length(vars)), dimnames = list(NULL, NULL, vars))
  for (k in seq_len(nchains)) {
    a[, k, "mu"] <- ar1(n, 0.9)
    a[, k, "lp__"] <- -a[, k, "mu"]^2 / 2
    a[, k, "sigma"] <- exp(rnorm(n))
    a[, k, "shifted"] <- ar1(n, 0.5) + 0.7 * (k == 2)
    a[, k, "tie"] <- round(rnorm(n) * 2) / 2
    a[, k, "theta.1"] <- 10 * ar1(n, 0.3) + rt(n, df = 3)
  }
  a
}

# One file per chain, numbers as %.17g so ppl reads the very same doubles.
write_chains <- function(a, prefix) {
  files <- sprintf("%s-%d.csv", prefix, seq_len(dim(a)[2]))
  for (k in seq_along(files)) {
    body <- apply(a[, k, ], 1, function(r) paste(sprintf("%.17g", r), collapse = ","))
    writeLines(c("# method = mcmc", paste(dimnames(a)[[3]], collapse = ","),
                 "# Adaptation terminated", body), files[k])
  }
  files
}

read_ppl <- function(files) {
  out <- system2(ppl, c("summary", files), stdout = TRUE)
  if (!is.null(attr(out, "status"))) stop("ppl summary failed")
  head <- grep("^name ", out)
  read.table(text = out[head:length(out)], header = TRUE, check.names = FALSE,
             na.strings = c("nan", "NA"), stringsAsFactors = FALSE)
}

# Differences beyond the printed precision: 4 significant digits (%.4g), ESS to 0.1, R-hat
# to 0.001 (half a unit of the last digit, and a little for binary rounding).
compare <- function(got, want, what) {
  bad <- 0
  tol <- list(mean = "g", mcse_mean = "g", sd = "g", `5%` = "g", `50%` = "g", `95%` = "g",
              ess_bulk = 0.05, ess_tail = 0.05, rhat = 0.0005)
  cols <- c(mean = "mean", mcse_mean = "mcse", sd = "sd", `5%` = "5%", `50%` = "50%",
            `95%` = "95%", ess_bulk = "ess", ess_tail = "ess_tail", rhat = "rhat")
  if (!identical(got$name, want$variable)) {
    cat(what, ": rows", got$name, "but posterior has", want$variable, "\n")
    return(1)
  }
  for (p in names(cols)) {
    w <- want[[p]]; g <- got[[cols[[p]]]]
    t <- if (identical(tol[[p]], "g")) 5.0001e-4 * abs(w) else tol[[p]] * 1.0001
    off <- abs(g - w) > t
    for (i in which(off)) {
      cat(sprintf("%s: %s %s: ppl %s, posterior %.10g\n", what, want$variable[i], p, g[i], w[i]))
      bad <- bad + 1
    }
  }
  bad
}

check <- function(nchains, n, seed, what) {
  set.seed(seed)
  a <- make_draws(nchains, n)
  got <- read_ppl(write_chains(a, file.path(dir, what)))
  d <- subset_draws(as_draws_array(a), variable = setdiff(dimnames(a)[[3]], "lp__"))
  want <- as.data.frame(summarise_draws(d, mean, mcse_mean, sd,
                                        ~quantile(.x, probs = c(0.05, 0.5, 0.95)),
                                        ess_bulk, ess_tail, rhat))
  compare(got, want, what)
}

bad <- check(4, 1000, 1, "4x1000") + check(3, 333, 2, "3x333") + check(1, 200, 3, "1x200")
if (bad) quit(status = 1)
cat("compare.R: ppl summary agrees with posterior", format(packageVersion("posterior")), "\n")
