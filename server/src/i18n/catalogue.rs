//! One Fluent catalogue per language (`locales/<code>.ftl`), built into the
//! binary. A translator edits one file and never Rust; the tests check that
//! every catalogue parses, has every message of the English one, and uses
//! the same variables in each.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;

use super::Lang;

fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../../../locales/en.ftl"),
        Lang::Ja => include_str!("../../../locales/ja.ftl"),
        Lang::Ko => include_str!("../../../locales/ko.ftl"),
    }
}

pub struct Catalogue {
    lang: Lang,
    resource: &'static FluentResource,
    bundle: FluentBundle<&'static FluentResource>,
    /// What the file could not say: parse errors and duplicate ids (a test
    /// requires none; at run time the English text stands in).
    pub problems: Vec<String>,
}

static CATALOGUES: LazyLock<[Catalogue; 3]> = LazyLock::new(|| Lang::ALL.map(Catalogue::load));

impl Catalogue {
    pub fn of(lang: Lang) -> &'static Catalogue {
        let [en, ja, ko] = &*CATALOGUES;
        match lang {
            Lang::En => en,
            Lang::Ja => ja,
            Lang::Ko => ko,
        }
    }

    fn load(lang: Lang) -> Catalogue {
        Self::parse(lang, source(lang))
    }

    /// A catalogue from its text. Loaded once per process, so the resource
    /// is kept for the process's life (the bundle borrows it).
    pub fn parse(lang: Lang, text: &str) -> Catalogue {
        let mut problems = Vec::new();
        let resource = match FluentResource::try_new(text.to_owned()) {
            Ok(r) => r,
            Err((r, errors)) => {
                problems.extend(errors.iter().map(|e| format!("{}: {e:?}", lang.code())));
                r
            }
        };
        let resource: &'static FluentResource = Box::leak(Box::new(resource));
        let tag: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![tag]);
        // Pages are plain HTML in one direction: no bidi isolation marks
        // around the values put into a sentence.
        bundle.set_use_isolating(false);
        if let Err(errors) = bundle.add_resource(resource) {
            problems.extend(errors.iter().map(|e| format!("{}: {e:?}", lang.code())));
        }
        Catalogue { lang, resource, bundle, problems }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Every message id, in the file's order.
    pub fn ids(&self) -> Vec<&'static str> {
        self.messages().map(|m| m.id.name).collect()
    }

    fn messages(&self) -> impl Iterator<Item = &'static ast::Message<&'static str>> {
        self.resource.entries().filter_map(|e| match e {
            ast::Entry::Message(m) => Some(m),
            _ => None,
        })
    }

    /// The variables a message uses (`$n`, `$alias`, ...).
    pub fn variables(&self, id: &str) -> Option<BTreeSet<&'static str>> {
        let message = self.messages().find(|m| m.id.name == id)?;
        let mut found = BTreeSet::new();
        if let Some(pattern) = &message.value {
            pattern_variables(pattern, &mut found);
        }
        Some(found)
    }

    pub fn has(&self, id: &str) -> bool {
        self.bundle.get_message(id).and_then(|m| m.value()).is_some()
    }

    /// A message with its variables set. A message this catalogue lacks
    /// is said in English, and logged: never an empty place on a page.
    pub fn format(&self, id: &str, args: &FluentArgs) -> String {
        match self.try_format(id, Some(args)) {
            Some(text) => text.into_owned(),
            None => self.fallback(id, |en| en.format(id, args)),
        }
    }

    /// A message whose variables are left as `{name}` for the code that
    /// fills them in. Loaded once per language into `Messages`, so the
    /// text is kept for the process's life.
    pub fn text(&self, id: &str) -> &'static str {
        let mut args = FluentArgs::new();
        for name in self.variables(id).unwrap_or_default() {
            args.set(name, FluentValue::from(format!("{{{name}}}")));
        }
        match self.try_format(id, Some(&args)) {
            Some(text) => Box::leak(text.into_owned().into_boxed_str()),
            None => self.fallback(id, |en| en.text(id)),
        }
    }

    /// A closed list's codes with their words.
    pub fn pairs(&self, list: &[(&'static str, &'static str)]) -> &'static [(&'static str, &'static str)] {
        Box::leak(list.iter().map(|(code, id)| (*code, self.text(id))).collect::<Vec<_>>().into_boxed_slice())
    }

    fn try_format(&self, id: &str, args: Option<&FluentArgs>) -> Option<Cow<'_, str>> {
        let pattern = self.bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                lang = self.lang.code(),
                id,
                ?errors,
                "a catalogue message did not format cleanly"
            );
        }
        Some(text)
    }

    fn fallback<T>(&self, id: &str, english: impl FnOnce(&'static Catalogue) -> T) -> T
    where
        T: Default,
    {
        if self.lang == Lang::En {
            tracing::error!(id, "no such message in the English catalogue");
            return T::default();
        }
        tracing::warn!(lang = self.lang.code(), id, "message missing from the catalogue; said in English");
        english(Catalogue::of(Lang::En))
    }
}

fn pattern_variables(pattern: &'static ast::Pattern<&'static str>, found: &mut BTreeSet<&'static str>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, found);
        }
    }
}

fn expression_variables(
    expression: &'static ast::Expression<&'static str>,
    found: &mut BTreeSet<&'static str>,
) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, found);
            for v in variants {
                pattern_variables(&v.value, found);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, found),
    }
}

fn inline_variables(
    inline: &'static ast::InlineExpression<&'static str>,
    found: &mut BTreeSet<&'static str>,
) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            found.insert(id.name);
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_variables(a, found);
            }
            for a in &arguments.named {
                inline_variables(&a.value, found);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, found),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_parses_and_has_every_english_message_with_its_variables() {
        let en = Catalogue::of(Lang::En);
        assert!(en.problems.is_empty(), "{:?}", en.problems);
        for lang in [Lang::Ja, Lang::Ko] {
            let other = Catalogue::of(lang);
            assert!(other.problems.is_empty(), "{:?}", other.problems);
            let missing: Vec<_> = en.ids().into_iter().filter(|id| !other.has(id)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            let extra: Vec<_> = other.ids().into_iter().filter(|id| !en.has(id)).collect();
            assert!(extra.is_empty(), "{} has messages English lacks: {extra:?}", lang.code());
            for id in en.ids() {
                assert_eq!(
                    en.variables(id),
                    other.variables(id),
                    "{}: {id} changes its variables",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn plurals_follow_each_language_and_variables_go_where_the_sentence_needs_them() {
        let en = Catalogue::parse(Lang::En, "n = { $n ->\n    [one] one case\n   *[other] { $n } cases\n}\n");
        let ja = Catalogue::parse(Lang::Ja, "n = { $n ->\n    [one] 1件\n   *[other] { $n }件\n}\n");
        assert!(en.problems.is_empty() && ja.problems.is_empty(), "{:?} {:?}", en.problems, ja.problems);
        let mut args = FluentArgs::new();
        args.set("n", 1);
        assert_eq!(en.format("n", &args), "one case");
        // Japanese has no singular (CLDR): 1 takes the "other" form.
        assert_eq!(ja.format("n", &args), "1件");
        args.set("n", 3);
        assert_eq!(en.format("n", &args), "3 cases");
        assert_eq!(ja.format("n", &args), "3件");
        let placeholders = Catalogue::parse(Lang::Ko, "m = { $b }의 { $a }\n");
        assert_eq!(placeholders.text("m"), "{b}의 {a}");
    }
}
