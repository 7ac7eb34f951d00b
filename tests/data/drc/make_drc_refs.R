#!/usr/bin/env Rscript
## Generator of tests/data/drc/drc_refs.json: reference fits by R's drc (Ritz, Baty, Streibig
## and Gerhard 2015, PLoS ONE 10:e0146021) on drc's own datasets, for tests/test_drc_refs.py.
## The tests read the JSON only; they do not need R.
##
## Run from the repository root:
##     Rscript tests/data/drc/make_drc_refs.R
## Needs R with the packages drc, drcData and jsonlite (drc is on CRAN; its sources are at
## https://github.com/DoseResponse/drc and https://github.com/DoseResponse/drcData).
## The committed JSON was written by R 4.2.2 with drc 3.2-0 (DoseResponse/drc at commit
## 8719d43a, installed with R CMD INSTALL) and drcData 1.1-3 (commit 09f9da30); a rerun
## reproduces it byte for byte but for the "generated" time stamp.
##
## For every case the JSON holds
##   - the data (x, y and, for global fits, the curve of every point) and the drc call;
##   - drc's estimates under drc's own coefficient names, their standard errors from
##     vcov() (drc: the inverse of optim's numerical Hessian of the RSS, scaled by
##     RSS/df: the "observed information"), the RSS and the residual df;
##   - Gauss-Newton standard errors at drc's estimates, sqrt(diag(s^2 (J'J)^-1)) with
##     s^2 = RSS/df and J the Jacobian of drc's own model function (fit$fct$fct) by
##     Richardson-extrapolated central differences: the covariance R's nls() reports and the
##     one mtor_pharm reports;
##   - ED10/ED50/ED90 (drc's relative ED) with delta-method SEs from ED(..., vcov. = ...)
##     under both covariances;
##   - convergence: a scaled gradient at drc's optimum and the RSS after a Gauss-Newton
##     polish from it (step halving, written here), which shows where drc stopped short of a
##     stationary point.
## Every drm() call uses drmc(relTol = 1e-12, maxIt = 10000): drc's default (relTol 1e-7)
## stops BFGS visibly short of the optimum on several of these cases.

suppressPackageStartupMessages({
  library(drc)
  library(jsonlite)
})

ctl <- drmc(relTol = 1e-12, maxIt = 10000, noMessage = TRUE)
levels_ed <- c(10, 50, 90)

## ------------------------------------------------------------------ the cases
## fct: the drc model call; mtor: model name, fixed parameters, and how drc's letters map
## to mtor_pharm's parameters (name and sign: hill = sign * b).
map_ll <- list(b = c("hill", 1), c = c("bottom", 1), d = c("top", 1), e = c("ic50", 1))
map_ll5 <- list(b = c("hill", 1), c = c("bottom", 1), d = c("top", 1), e = c("xmid", 1), f = c("s", 1))
map_w1 <- list(b = c("hill", 1), c = c("bottom", 1), d = c("top", 1), e = c("xmid", 1))
map_w2 <- list(b = c("hill", -1), c = c("bottom", 1), d = c("top", 1), e = c("xmid", 1))
map_ln <- list(b = c("hill", -1), c = c("bottom", 1), d = c("top", 1), e = c("ic50", 1))
map_h <- list(b = c("hill", 1), c = c("bottom", 1), d = c("top", 1), e = c("xmid", 1), f = c("f", 1))

single <- function(id, dataset, formula, fct, model, map, fixed = list(), note = "", data = NULL) {
  list(id = id, dataset = dataset, formula = formula, fct = fct, model = model, map = map,
       fixed = fixed, note = note, data = data, curveid = NULL, pmodels = NULL, share = NULL)
}

## ryegrass on the % scale of its control mean (for LL.2 with upper = 100, mtor_pharm's "2pl")
rye_pct <- within(ryegrass, rootl <- 100 * rootl / mean(rootl[conc == 0]))
## and as % inhibition (100 - that): rising curves, b < 0 in drc and hill < 0 in mtor_pharm
rye_inh <- within(rye_pct, rootl <- 100 - rootl)
inh_note <- "ryegrass as % inhibition, 100 - 100 * rootl / (control mean): a rising curve"
S.alba$Herbicide <- factor(S.alba$Herbicide)
spinach$curve <- factor(spinach$CURVE)

cases <- list(
  single("LL.4_ryegrass", "ryegrass", "rootl ~ conc", "LL.4()", "4pl", map_ll),
  single("LL.3_ryegrass", "ryegrass", "rootl ~ conc", "LL.3()", "3pl", map_ll),
  single("LL.2_ryegrass_percent", "ryegrass", "rootl ~ conc", "LL.2(upper = 100)", "2pl", map_ll,
         note = "ryegrass rootl as % of the mean of its 6 controls (100 * rootl / 7.7583...)",
         data = rye_pct),
  single("LL.5_ryegrass", "ryegrass", "rootl ~ conc", "LL.5()", "5pl", map_ll5),
  single("LL.4_S.alba_bentazone", "S.alba", "DryMatter ~ Dose", "LL.4()", "4pl", map_ll,
         data = subset(S.alba, Herbicide == "Bentazone")),
  single("LL.4_S.alba_glyphosate", "S.alba", "DryMatter ~ Dose", "LL.4()", "4pl", map_ll,
         data = subset(S.alba, Herbicide == "Glyphosate")),
  single("LL.4_algae", "algae", "vol ~ conc", "LL.4()", "4pl", map_ll),
  single("LL.4_M.bahia", "M.bahia", "dryweight ~ conc", "LL.4()", "4pl", map_ll),
  single("LL.5_S.capricornutum", "S.capricornutum", "count ~ conc", "LL.5()", "5pl", map_ll5),
  single("W1.4_ryegrass", "ryegrass", "rootl ~ conc", "W1.4()", "weibull1", map_w1),
  single("W2.4_ryegrass", "ryegrass", "rootl ~ conc", "W2.4()", "weibull2", map_w2),
  single("W1.4_S.capricornutum", "S.capricornutum", "count ~ conc", "W1.4()", "weibull1", map_w1,
         note = "the reproducer of issue #13"),
  single("W2.4_S.capricornutum", "S.capricornutum", "count ~ conc", "W2.4()", "weibull2", map_w2,
         note = "the reproducer of issue #13"),
  single("W1.4_algae", "algae", "vol ~ conc", "W1.4()", "weibull1", map_w1),
  single("W2.4_algae", "algae", "vol ~ conc", "W2.4()", "weibull2", map_w2),
  single("LN.4_ryegrass", "ryegrass", "rootl ~ conc", "LN.4()", "lognormal", map_ln),
  single("LN.4_S.capricornutum", "S.capricornutum", "count ~ conc", "LN.4()", "lognormal", map_ln),
  single("BC.4_lettuce", "lettuce", "weight ~ conc", "BC.4()", "bc4", map_h),
  single("BC.5_lettuce", "lettuce", "weight ~ conc", "BC.5()", "bc5", map_h),
  single("CRS.4a_lettuce", "lettuce", "weight ~ conc", "CRS.4a()", "crs4", map_h),
  single("CRS.5a_lettuce", "lettuce", "weight ~ conc", "CRS.5a()", "crs5", map_h),
  single("CRS.4b_lettuce", "lettuce", "weight ~ conc", "CRS.4b()", "crs4b", map_h),
  single("CRS.5b_lettuce", "lettuce", "weight ~ conc", "CRS.5b()", "crs5b", map_h),
  single("CRS.4c_lettuce", "lettuce", "weight ~ conc", "CRS.4c()", "crs4c", map_h),
  single("CRS.5c_lettuce", "lettuce", "weight ~ conc", "CRS.5c()", "crs5c", map_h),
  single("LL.4_ryegrass_rising", "ryegrass", "rootl ~ conc", "LL.4()", "4pl", map_ll,
         note = inh_note, data = rye_inh),
  single("LL.5_ryegrass_rising", "ryegrass", "rootl ~ conc", "LL.5()", "5pl", map_ll5,
         note = inh_note, data = rye_inh),
  single("W1.4_ryegrass_rising", "ryegrass", "rootl ~ conc", "W1.4()", "weibull1", map_w1,
         note = inh_note, data = rye_inh),
  single("W2.4_ryegrass_rising", "ryegrass", "rootl ~ conc", "W2.4()", "weibull2", map_w2,
         note = inh_note, data = rye_inh),
  single("LN.4_ryegrass_rising", "ryegrass", "rootl ~ conc", "LN.4()", "lognormal", map_ln,
         note = inh_note, data = rye_inh),
  single("LL.4_fixed_c0_ryegrass", "ryegrass", "rootl ~ conc", "LL.4(fixed = c(NA, 0, NA, NA))", "4pl",
         map_ll, fixed = list(bottom = 0)),
  single("LL.4_fixed_b1_ryegrass", "ryegrass", "rootl ~ conc", "LL.4(fixed = c(1, NA, NA, NA))", "4pl",
         map_ll, fixed = list(hill = 1)),
  single("LL.5_fixed_f1_ryegrass", "ryegrass", "rootl ~ conc", "LL.5(fixed = c(NA, NA, NA, NA, 1))", "5pl",
         map_ll5, fixed = list(s = 1)),
  single("W1.4_fixed_c0_S.capricornutum", "S.capricornutum", "count ~ conc", "W1.4(fixed = c(NA, 0, NA, NA))",
         "weibull1", map_w1, fixed = list(bottom = 0)),
  single("LN.4_fixed_d_ryegrass", "ryegrass", "rootl ~ conc", "LN.4(fixed = c(NA, NA, 7.5, NA))",
         "lognormal", map_ln, fixed = list(top = 7.5)),
  ## global fits: drm(curveid =, pmodels =) against mtor_pharm's fit_shared(share = ...)
  list(id = "LL.4_S.alba_shared_cd", dataset = "S.alba", formula = "DryMatter ~ Dose", fct = "LL.4()",
       model = "4pl", map = map_ll, fixed = list(), data = S.alba, curveid = "Herbicide",
       pmodels = "list(~Herbicide - 1, ~1, ~1, ~Herbicide - 1)",
       share = list(bottom = TRUE, top = TRUE), groupcol = list(b = "Herbicide", e = "Herbicide"),
       note = "shared lower and upper limits, slope and ED50 per herbicide (drc's ?S.alba)"),
  list(id = "LL.4_S.alba_shared_bcd", dataset = "S.alba", formula = "DryMatter ~ Dose", fct = "LL.4()",
       model = "4pl", map = map_ll, fixed = list(), data = S.alba, curveid = "Herbicide",
       pmodels = "list(~1, ~1, ~1, ~Herbicide - 1)",
       share = list(hill = TRUE, bottom = TRUE, top = TRUE),
       groupcol = list(e = "Herbicide"),
       note = "parallel curves: one slope and common limits, ED50 per herbicide"),
  list(id = "LL.4_spinach_partial", dataset = "spinach", formula = "SLOPE ~ DOSE", fct = "LL.4()",
       model = "4pl", map = map_ll, fixed = list(), data = spinach, curveid = "curve",
       pmodels = "list(~HERBICIDE - 1, ~1, ~1, ~curve - 1)",
       share = list(hill = "HERBICIDE", bottom = TRUE, top = TRUE),
       groupcol = list(b = "HERBICIDE", e = "curve"),
       note = "partial sharing (pmodels): one slope per herbicide (curves 1-3 bentazon, 4-5 diuron), common limits, ED50 per curve")
)

## ------------------------------------------------------------------ helpers
## Per point, the full vector of free parameters (in fct's order) from the coefficient vector.
point_parms <- function(fit, cs, d) {
  cf <- coef(fit)
  nm <- names(cf)
  letters_ <- sub(":.*", "", nm)
  terms <- sub("^[^:]*:", "", nm)
  free_letters <- unique(letters_)
  n <- nrow(d)
  function(p) {
    M <- matrix(NA_real_, n, length(free_letters))
    for (j in seq_along(free_letters)) {
      L <- free_letters[j]
      idx <- which(letters_ == L)
      if (length(idx) == 1 && terms[idx] == "(Intercept)") {
        M[, j] <- p[idx]
      } else {
        col <- cs$groupcol[[L]]
        key <- paste0(col, as.character(d[[col]]))
        M[, j] <- p[idx][match(key, terms[idx])]
      }
    }
    stopifnot(!anyNA(M))
    M
  }
}

jacobian <- function(pred, p) {
  n <- length(pred(p))
  J <- matrix(0, n, length(p))
  for (j in seq_along(p)) {
    h <- 1e-4 * max(abs(p[j]), 1e-2)
    D <- function(h) {
      pp <- p; pm <- p
      pp[j] <- p[j] + h; pm[j] <- p[j] - h
      (pred(pp) - pred(pm)) / (2 * h)
    }
    J[, j] <- (4 * D(h / 2) - D(h)) / 3  # Richardson: error O(h^4)
  }
  J
}

gn_polish <- function(pred, y, p, iters = 200) {
  rss <- sum((y - pred(p))^2)
  for (it in seq_len(iters)) {
    J <- jacobian(pred, p)
    r <- y - pred(p)
    step <- tryCatch(qr.solve(J, r), error = function(e) NULL)
    if (is.null(step)) break
    t <- 1
    improved <- FALSE
    while (t > 1e-10) {
      pn <- p + t * step
      rn <- sum((y - pred(pn))^2)
      if (is.finite(rn) && rn < rss) { improved <- TRUE; break }
      t <- t / 2
    }
    if (!improved) break
    done <- (rss - rn) <= 1e-15 * rss
    p <- pn; rss <- rn
    if (done) break
  }
  list(par = p, rss = rss)
}

ed_table <- function(fit, V, ...) {
  ## one level at a time: drc's ED for the hormesis models can fail for one level (uniroot
  ## finds no sign change below its upper end) and succeed for the others
  out <- list()
  for (lev in levels_ed) {
    e <- tryCatch(ED(fit, lev, interval = "delta", vcov. = V, display = FALSE, ...),
                  error = function(err) NULL)
    if (is.null(e)) next
    for (i in seq_len(nrow(e))) {
      parts <- strsplit(rownames(e)[i], ":")[[1]]
      out[[length(out) + 1]] <- list(
        label = rownames(e)[i], curve = if (is.null(fit$dataList$curveid) || length(unique(fit$dataList$curveid)) == 1) NULL else parts[2],
        level = lev, estimate = unname(e[i, "Estimate"]), se = unname(e[i, "Std. Error"]))
    }
  }
  out
}

run_case <- function(cs) {
  d <- if (is.null(cs$data)) get(cs$dataset) else cs$data
  d <- as.data.frame(d)
  call <- sprintf("drm(%s, %sdata = d, fct = %s%s, control = ctl)", cs$formula,
                  if (is.null(cs$curveid)) "" else paste0("curveid = ", cs$curveid, ", "),
                  cs$fct, if (is.null(cs$pmodels)) "" else paste0(", pmodels = ", cs$pmodels))
  fit <- eval(parse(text = call))
  y <- d[[all.vars(as.formula(cs$formula))[1]]]
  x <- d[[all.vars(as.formula(cs$formula))[2]]]
  cf <- coef(fit)
  if (is.null(cs$groupcol)) cs$groupcol <- list()
  parms <- point_parms(fit, cs, d)
  pred <- function(p) fit$fct$fct(x, parms(p))
  rss <- sum((y - pred(cf))^2)
  stopifnot(abs(rss - fit$fit$value) <= 1e-8 * rss + 1e-12)  # our prediction is drc's model
  dfr <- df.residual(fit)
  J <- jacobian(pred, cf)
  Vgn <- (rss / dfr) * solve(crossprod(J))
  dimnames(Vgn) <- list(names(cf), names(cf))
  Vdrc <- vcov(fit)
  grad_cos <- function(J, r) max(abs(crossprod(J, r)) / (sqrt(colSums(J^2)) * sqrt(sum(r^2))))
  ## the Gauss-Newton polish from drc's optimum, and the Gauss-Newton covariance there
  pol <- gn_polish(pred, y, cf)
  Jp <- jacobian(pred, pol$par)
  Vp <- (pol$rss / dfr) * solve(crossprod(Jp))
  dimnames(Vp) <- list(names(cf), names(cf))
  fit_p <- fit  # drc's ED() evaluated at the polished estimates: it reads parmMat/indexMat
  fit_p$parmMat[] <- pol$par[fit$indexMat]
  fit_p$coefficients[] <- pol$par
  ## BC's ED: drc's edfct searches the dose up to 1000 by default, below the ED90 of BC.4 on
  ## lettuce (about 1.2e4); search up to 1e6 (uniroot keeps its default tolerance, about
  ## 1.2e-4 in dose units, for BC and CRS alike)
  ed_extra <- if (grepl("^BC", cs$fct)) list(upper = 1e6) else list()
  coefs <- lapply(seq_along(cf), function(j) {
    nm <- names(cf)[j]
    L <- sub(":.*", "", nm)
    term <- sub("^[^:]*:", "", nm)
    col <- cs$groupcol[[L]]
    list(name = nm, letter = L,
         group = if (term == "(Intercept)") NULL else substring(term, nchar(col) + 1))
  })
  out <- list(
    id = cs$id, dataset = cs$dataset, call = sub("data = d", paste0("data = ", cs$dataset), call),
    note = cs$note, model = cs$model,
    map = lapply(cs$map, function(m) list(name = m[1], sign = as.numeric(m[2]))),
    fixed = cs$fixed,
    x = x, y = y, n = length(y), df_residual = dfr,
    coefficients = coefs,
    drc = list(
      estimate = unname(cf), se = unname(sqrt(diag(Vdrc))), se_gn = unname(sqrt(diag(Vgn))),
      rss = rss, optim_convergence = fit$fit$convergence, grad_cos = grad_cos(J, y - pred(cf)),
      ed = do.call(ed_table, c(list(fit, Vdrc), ed_extra))),
    polished = list(
      estimate = unname(pol$par), se_gn = unname(sqrt(diag(Vp))), rss = pol$rss,
      rss_rel_drop = (rss - pol$rss) / rss, grad_cos = grad_cos(Jp, y - pred(pol$par)),
      ed = do.call(ed_table, c(list(fit_p, Vp), ed_extra)))
  )
  if (!is.null(cs$curveid)) {
    out$curve <- as.character(d[[cs$curveid]])
    ## mtor_pharm's share=: TRUE (one value for all curves) or the group label of every point
    out$share <- lapply(cs$share, function(v) if (isTRUE(v)) TRUE else as.character(d[[v]]))
  }
  out
}

results <- lapply(cases, function(cs) {
  message("fitting ", cs$id)
  run_case(cs)
})
names(results) <- vapply(cases, function(cs) cs$id, "")

doc <- list(
  generator = "tests/data/drc/make_drc_refs.R",
  generated = format(Sys.time(), "%Y-%m-%d %H:%M UTC", tz = "UTC"),
  R_version = R.version.string,
  drc_version = as.character(packageVersion("drc")),
  drcData_version = as.character(packageVersion("drcData")),
  control = "drmc(relTol = 1e-12, maxIt = 10000)",
  citation = "Ritz C, Baty F, Streibig JC, Gerhard D (2015) Dose-Response Analysis Using R. PLoS ONE 10(12): e0146021. doi:10.1371/journal.pone.0146021",
  se_note = paste("se_drc: drc's vcov() (inverse numerical Hessian of the RSS from optim, times RSS/df);",
                  "se_gn: Gauss-Newton s^2 (J'J)^-1 at drc's estimates (R's nls convention, mtor_pharm's)."),
  cases = results
)
out_path <- file.path("tests", "data", "drc", "drc_refs.json")
writeLines(toJSON(doc, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"), out_path)
message("wrote ", out_path)
