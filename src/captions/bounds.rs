//! The size every value of a caption template can reach, worked out from its
//! syntax before the template is accepted.
//!
//! Fuel counts instructions and the output is capped, but neither sees a
//! single instruction that builds a gigabyte (`"x" * 999999999`, a chain of
//! `~` through `{% set %}`s that doubles at each step). So a template is only
//! compiled when every expression in it provably stays under
//! [`MAX_EXPRESSION_BYTES`]:
//!
//! - variables hold at most [`MAX_FIELD_BYTES`] (the engine cuts the post's
//!   fields to that), filters vetted in [`super::filters`] return at most
//!   their input or [`MAX_VALUE_BYTES`], and `~` and `+` add their operands;
//! - `*` needs a number written in the template, and multiplies by it;
//! - a name bound by `{% set %}`, `{% with %}` or `{% for %}` keeps the
//!   largest bound it was ever given; `{% set %}` inside a loop, recursive
//!   loops and blocks that capture output (`{% filter %}`, `{% set %}…{% endset %}`)
//!   are refused, so nothing can grow from one iteration to the next.
//!
//! The bounds are upper bounds, far above what a caption template needs: a
//! template that writes out 30 fields joined by `~` in one expression is still
//! well inside them.

use std::collections::HashMap;

use minijinja::machinery::ast::{self, BinOpKind, CallArg, Expr, Stmt};
use minijinja::machinery::{parse, Span, WhitespaceConfig};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;

use super::filters::{is_capped_filter, is_scalar_filter, MAX_VALUE_BYTES};

pub use super::limits::MAX_FIELD_BYTES;
/// Largest value any one expression may be able to build.
pub const MAX_EXPRESSION_BYTES: usize = 64 * 1024;
/// What a number or a yes/no takes as text, at most.
const SCALAR_BYTES: usize = 48;

/// Why a template was refused, and the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub line: usize,
    pub reason: String,
}

/// Checks that `source` uses only the statements captions need and that no
/// expression in it can build more than [`MAX_EXPRESSION_BYTES`]. Syntax
/// errors are left to the compiler, which names them better.
pub(crate) fn check(source: &str) -> Result<(), Refusal> {
    let Ok(tree) = parse(
        source,
        "<template>",
        SyntaxConfig,
        WhitespaceConfig::default(),
    ) else {
        return Ok(());
    };
    Checker::default().stmt(&tree)
}

#[derive(Default)]
struct Checker<'a> {
    /// Names bound in the template, with the largest bound ever given.
    names: HashMap<&'a str, usize>,
    /// How many `{% for %}` bodies enclose the statement being checked.
    loops: usize,
}

fn refuse(span: Span, reason: impl Into<String>) -> Refusal {
    Refusal {
        line: usize::from(span.start_line),
        reason: reason.into(),
    }
}

impl<'a> Checker<'a> {
    fn stmts(&mut self, body: &'a [Stmt<'a>]) -> Result<(), Refusal> {
        body.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, stmt: &'a Stmt<'a>) -> Result<(), Refusal> {
        match stmt {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitRaw(_) => Ok(()),
            Stmt::EmitExpr(e) => self.expr(&e.expr).map(drop),
            Stmt::IfCond(c) => {
                self.expr(&c.expr)?;
                self.stmts(&c.true_body)?;
                self.stmts(&c.false_body)
            }
            Stmt::ForLoop(f) => {
                if f.recursive {
                    return Err(refuse(f.span(), "recursive loops are not available"));
                }
                let each = self.expr(&f.iter)?;
                self.bind(&f.target, each);
                self.loops += 1;
                let checked = f
                    .filter_expr
                    .as_ref()
                    .map_or(Ok(0), |e| self.expr(e))
                    .and_then(|_| self.stmts(&f.body));
                self.loops -= 1;
                checked?;
                self.stmts(&f.else_body)
            }
            Stmt::WithBlock(w) => {
                for (target, value) in &w.assignments {
                    let size = self.expr(value)?;
                    self.bind(target, size);
                }
                self.stmts(&w.body)
            }
            Stmt::Set(s) => {
                if self.loops > 0 {
                    return Err(refuse(s.span(), "{% set %} is not available inside a loop"));
                }
                let size = self.expr(&s.expr)?;
                self.bind(&s.target, size);
                Ok(())
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled)?;
                self.stmts(&a.body)
            }
            Stmt::SetBlock(s) => Err(refuse(
                s.span(),
                "{% set %}…{% endset %} blocks are not available",
            )),
            Stmt::FilterBlock(f) => Err(refuse(f.span(), "{% filter %} blocks are not available")),
            Stmt::Block(b) => Err(refuse(b.span(), "{% block %} is not available")),
            Stmt::Import(i) => Err(refuse(i.span(), "{% import %} is not available")),
            Stmt::FromImport(i) => Err(refuse(i.span(), "{% from %} is not available")),
            Stmt::Extends(e) => Err(refuse(e.span(), "{% extends %} is not available")),
            Stmt::Include(i) => Err(refuse(i.span(), "{% include %} is not available")),
            Stmt::Do(d) => Err(refuse(d.span(), "{% do %} is not available")),
        }
    }

    /// Gives every name in `target` (a name, or a tuple of them) `size`, or
    /// keeps what it had when that was larger.
    fn bind(&mut self, target: &'a Expr<'a>, size: usize) {
        match target {
            Expr::Var(v) => {
                let bound = self.names.entry(v.id).or_insert(0);
                *bound = (*bound).max(size);
            }
            Expr::List(l) => l.items.iter().for_each(|item| self.bind(item, size)),
            _ => {}
        }
    }

    /// The most bytes `expr` can evaluate to, refusing it past the limit.
    fn expr(&mut self, expr: &'a Expr<'a>) -> Result<usize, Refusal> {
        let size = match expr {
            Expr::Var(v) => self.names.get(v.id).copied().unwrap_or(MAX_FIELD_BYTES),
            Expr::Const(c) => const_size(&c.value),
            Expr::Slice(s) => {
                for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(part)?;
                }
                self.expr(&s.expr)?
            }
            Expr::UnaryOp(u) => self.expr(&u.expr)?.max(SCALAR_BYTES),
            Expr::BinOp(b) => self.binop(b)?,
            Expr::Compare(c) => {
                self.expr(&c.expr)?;
                for op in &c.ops {
                    self.expr(&op.expr)?;
                }
                SCALAR_BYTES
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr)?;
                let yes = self.expr(&i.true_expr)?;
                let no = i.false_expr.as_ref().map_or(Ok(0), |e| self.expr(e))?;
                yes.max(no)
            }
            Expr::Filter(f) => {
                let input = f.expr.as_ref().map_or(Ok(0), |e| self.expr(e))?;
                let args = self.args(&f.args)?;
                if is_capped_filter(f.name) {
                    MAX_VALUE_BYTES
                } else if is_scalar_filter(f.name) {
                    SCALAR_BYTES
                } else {
                    // The rest return their input, part of it, or an
                    // argument (`default`).
                    input.saturating_add(args)
                }
            }
            Expr::Test(t) => {
                self.expr(&t.expr)?;
                self.args(&t.args)?;
                SCALAR_BYTES
            }
            Expr::GetAttr(g) => self.expr(&g.expr)?,
            Expr::GetItem(g) => {
                self.expr(&g.subscript_expr)?;
                self.expr(&g.expr)?
            }
            Expr::Call(c) => {
                self.expr(&c.expr)?;
                // The only functions are `range` (capped) and the loop's
                // `cycle`, which returns one of its arguments.
                self.args(&c.args)?.max(MAX_VALUE_BYTES)
            }
            Expr::List(l) => l.items.iter().try_fold(0usize, |sum, item| {
                Ok(sum.saturating_add(self.expr(item)?).saturating_add(4))
            })?,
            Expr::Map(m) => m.keys.iter().chain(&m.values).try_fold(0usize, |sum, e| {
                Ok(sum.saturating_add(self.expr(e)?).saturating_add(4))
            })?,
        };
        if size > MAX_EXPRESSION_BYTES {
            return Err(refuse(
                expr.span(),
                format!(
                    "this expression could grow past {} KiB; captions never need that much text",
                    MAX_EXPRESSION_BYTES / 1024
                ),
            ));
        }
        Ok(size)
    }

    fn binop(&mut self, b: &'a ast::BinOp<'a>) -> Result<usize, Refusal> {
        let left = self.expr(&b.left)?;
        let right = self.expr(&b.right)?;
        Ok(match b.op {
            BinOpKind::Concat | BinOpKind::Add => left.saturating_add(right),
            BinOpKind::ScAnd | BinOpKind::ScOr => left.max(right),
            BinOpKind::Mul => {
                if is_number(&b.left) && is_number(&b.right) {
                    SCALAR_BYTES
                } else if let Some(n) = literal_count(&b.right) {
                    left.saturating_mul(n)
                } else if let Some(n) = literal_count(&b.left) {
                    right.saturating_mul(n)
                } else {
                    return Err(refuse(
                        b.left.span(),
                        "`*` needs a whole number written in the template on one side",
                    ));
                }
            }
            BinOpKind::Sub
            | BinOpKind::Div
            | BinOpKind::FloorDiv
            | BinOpKind::Rem
            | BinOpKind::Pow
            | BinOpKind::Eq
            | BinOpKind::Ne
            | BinOpKind::Lt
            | BinOpKind::Lte
            | BinOpKind::Gt
            | BinOpKind::Gte
            | BinOpKind::In => SCALAR_BYTES,
        })
    }

    fn args(&mut self, args: &'a [CallArg<'a>]) -> Result<usize, Refusal> {
        args.iter().try_fold(0usize, |sum, arg| {
            let e = match arg {
                CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) => e,
                CallArg::KwargSplat(e) => e,
            };
            Ok(sum.saturating_add(self.expr(e)?))
        })
    }
}

/// A whole number written in the template, as `*` may use it.
fn literal_count(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Const(c) => c.value.as_i64().map(|n| usize::try_from(n).unwrap_or(0)),
        _ => None,
    }
}

fn is_number(expr: &Expr) -> bool {
    matches!(expr, Expr::Const(c) if c.value.is_number())
}

fn const_size(value: &Value) -> usize {
    match value.as_str() {
        Some(s) => s.len(),
        None => value.to_string().len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(source: &str) -> Refusal {
        check(source).expect_err(source)
    }

    #[test]
    fn caption_templates_pass() {
        for source in [
            super::super::template::default_template(super::super::platform::Platform::Linkedin),
            "{{ title ~ ' – ' ~ feed_title }}\n{{ url }}",
            "{% set intro = title|upper %}{{ intro }} {{ intro }}",
            "{% with t = title %}{{ t }}{% endwith %}",
            "{% for h in hashtags[:3] %}{{ h }} {% endfor %}{{ '-' * 20 }}",
            "{% if summary|length > 100 %}{{ summary|truncate_words(20) }}{% else %}{{ summary }}{% endif %}",
            "{{ (title ~ ' ') * 3 }}",
        ] {
            assert_eq!(check(source), Ok(()), "{source}");
        }
    }

    #[test]
    fn multiplying_by_a_large_or_unknown_number_is_refused() {
        assert!(refused("{{ 'x' * 999999999 }}").reason.contains("64 KiB"));
        assert!(refused("{{ title * 100 }}").reason.contains("64 KiB"));
        assert!(refused("{{ title * title|length }}")
            .reason
            .contains("whole number"));
        assert_eq!(check("{{ 3 * 4 }}"), Ok(()));
    }

    #[test]
    fn doubling_through_names_is_refused() {
        let mut source = String::from("{% set a = title %}");
        for _ in 0..6 {
            source.push_str("{% set a = a ~ a %}");
        }
        source.push_str("{{ a }}");
        let refusal = refused(&source);
        assert!(refusal.reason.contains("64 KiB"), "{refusal:?}");
        let refusal = refused("{% for i in range(3) %}{% set a = title %}{% endfor %}");
        assert!(refusal.reason.contains("inside a loop"), "{refusal:?}");
    }

    #[test]
    fn statements_that_capture_or_recurse_are_refused() {
        for (source, says) in [
            ("{% set a %}{{ title }}{% endset %}", "endset"),
            ("{% filter upper %}{{ title }}{% endfilter %}", "filter"),
            (
                "{% for x in [[1]] recursive %}{{ loop(x) }}{% endfor %}",
                "recursive",
            ),
            ("{% include 'x' %}", "include"),
            ("{% block b %}{% endblock %}", "block"),
        ] {
            let refusal = refused(source);
            assert!(refusal.reason.contains(says), "{source}: {refusal:?}");
        }
    }

    #[test]
    fn refusals_name_the_line() {
        assert_eq!(refused("{{ title }}\n\n{{ 'x' * 99999 }}").line, 3);
    }
}
