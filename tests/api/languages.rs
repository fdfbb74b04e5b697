//! Languages over HTTP: which language a page is in (the browser's
//! `Accept-Language`, the login page's links, the user's own choice on the
//! account page), and that every page of every role, in Japanese and in
//! Korean, carries no English message and no unfilled variable.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use safehouse::accounts::model::Role;
use safehouse::i18n::Lang;
use safehouse::i18n::catalogue::Catalogue;
use safehouse::web::messages::{EN, JA, KO, Messages};

use crate::helpers::*;

fn lang_of(page: &str) -> &str {
    page_between(page, "<html lang=\"", "\"")
}

#[tokio::test]
async fn languages_before_login_follow_the_browser_then_the_login_page_links() {
    let t = spawn_app().await;
    let mut browser = t.client();
    let korean = browser.get_with("/login", &[("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")]).await;
    assert_eq!(korean.headers()["content-language"], "ko");
    assert!(korean.headers()["vary"].to_str().unwrap().contains("Accept-Language"));
    let page = korean.text().await.unwrap();
    assert_eq!(lang_of(&page), "ko");
    assert!(page.contains(KO.login_intro), "the Korean login page");
    // A language we do not speak: the organisation's default (English).
    let page =
        browser.get_with("/login", &[("accept-language", "fr-FR, de;q=0.8")]).await.text().await.unwrap();
    assert_eq!(lang_of(&page), "en");
    assert!(page.contains(EN.login_intro));
    // The weights decide, not the order.
    let page =
        browser.get_with("/login", &[("accept-language", "en;q=0.3, ja;q=0.9")]).await.text().await.unwrap();
    assert_eq!(lang_of(&page), "ja");

    // The page's own links: each names its language in that language.
    for lang in Lang::ALL {
        assert!(page.contains(&format!("href=\"/login?lang={}\" lang=\"{}\"", lang.code(), lang.code())));
        assert!(page.contains(lang.native_name()));
    }
    let chosen = browser.get_with("/login?lang=ja", &[("accept-language", "ko")]).await;
    let cookie = chosen.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(cookie, "safehouse-lang=ja; Path=/; HttpOnly; Secure; SameSite=Strict", "a session cookie");
    assert_eq!(lang_of(&chosen.text().await.unwrap()), "ja");
    // The cookie outweighs the header on the next pages before login...
    let with_cookie = [("accept-language", "ko"), ("cookie", "safehouse-lang=ja")];
    let activate = browser.get_with("/activate", &with_cookie).await.text().await.unwrap();
    assert_eq!(lang_of(&activate), "ja");
    assert!(activate.contains(JA.activate_intro));
    // ...error pages included, and a value that is no language is ignored.
    let missing = browser.get_with("/no-such-page", &with_cookie).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains(JA.error_404));
    let odd = browser.get_with("/login", &[("accept-language", "ko"), ("cookie", "safehouse-lang=xx")]).await;
    assert_eq!(lang_of(&odd.text().await.unwrap()), "ko");
    let ignored = browser.get_with("/login?lang=xx", &[]).await;
    assert!(ignored.headers().get("set-cookie").is_none(), "no cookie for a language we do not speak");

    // A failed login says so in the browser's language, keeping what was typed.
    let failed = t
        .client()
        .post_with(
            "/login",
            &[("username", "nobody.here"), ("password", "wrong password here"), ("code", "000000")],
            &[("sec-fetch-site", "same-origin"), ("accept-language", "ko")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(failed.contains(KO.login_failed), "{failed}");
    assert!(failed.contains("value=\"nobody.here\""));
}

#[tokio::test]
async fn languages_a_user_s_own_choice_outlasts_the_session_and_outweighs_the_browser() {
    let t = spawn_app().await;
    let worker = t.web_user("case.hana", Role::Caseworker).await;
    let mut client = t.login(&worker).await;
    let english = [("accept-language", "en")];
    let account = client.get_with("/account", &english).await.text().await.unwrap();
    assert_eq!(lang_of(&account), "en");
    assert!(account.contains("<option value=\"ko\" lang=\"ko\">한국어</option>"), "each language in itself");
    let csrf = client.csrf("/account").await;

    // Something that is not one of the three: refused beside the field, nothing saved.
    let refused = client.post("/account/language", &[("csrf", &csrf), ("language", "fr")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains(EN.language_invalid));
    assert!(!t.app.audit_log().await.iter().any(|e| e.action == "account.language" && e.outcome == "ok"));

    let saved = client.post("/account/language", &[("csrf", &csrf), ("language", "ko")]).await;
    assert_eq!(saved.status(), 303);
    let page = client.follow(saved).await.text().await.unwrap();
    assert_eq!(lang_of(&page), "ko", "the page that says so is in the new language");
    assert!(page.contains(KO.language_saved));
    assert!(page.contains("<option value=\"ko\" lang=\"ko\" selected>"));
    let entry = t.app.audit_log().await.into_iter().rev().find(|e| e.action == "account.language").unwrap();
    assert_eq!(entry.outcome, "ok");

    // The browser asks for English: the user's choice wins, on pages and
    // error pages alike, with dates in the language's own form.
    let home = client.get_with("/", &english).await;
    assert_eq!(home.headers()["content-language"], "ko");
    let missing = client.get_with("/cases/not-a-case", &english).await.text().await.unwrap();
    assert_eq!(lang_of(&missing), "ko");
    let account = client.get_with("/account", &english).await.text().await.unwrap();
    assert!(account.contains('년') && account.contains('월') && account.contains('일'), "{account}");

    // Kept with the user, not the session: a new login reads Korean too.
    let csrf = client.csrf("/account").await;
    client.post("/logout", &[("csrf", &csrf)]).await;
    let mut again = t.login(&worker).await;
    let home = again.get_with("/", &english).await.text().await.unwrap();
    assert_eq!(lang_of(&home), "ko");

    // Back to the browser's language.
    let csrf = again.csrf("/account").await;
    let back = again
        .post_with(
            "/account/language",
            &[("csrf", &csrf), ("language", "")],
            &[("sec-fetch-site", "same-origin"), ("accept-language", "ja")],
        )
        .await;
    assert_eq!(back.status(), 303);
    let page = again.get_with("/account", &[("accept-language", "ja")]).await.text().await.unwrap();
    assert_eq!(lang_of(&page), "ja");
    assert!(page.contains(JA.language_saved_browser));
}

/// Every English message long enough to be recognised (three words or
/// more, after its variables are cut out), with the language's own text,
/// so a page can be searched for English that should have been translated.
fn english_fragments(other: &Messages) -> (Vec<String>, BTreeSet<String>) {
    let en = Catalogue::of(Lang::En);
    let theirs = Catalogue::of(safehouse::i18n::Lang::parse(other.lang).unwrap());
    let mut out = BTreeSet::new();
    let mut whole = BTreeSet::new();
    for id in en.ids() {
        let english = en.text(id);
        if english == theirs.text(id) {
            continue;
        }
        if !english.contains('{') && english.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 3 {
            whole.insert(english.to_owned());
        }
        for part in english.split(['{', '}']) {
            let part = part.trim();
            if part.split(' ').filter(|w| w.chars().any(char::is_alphabetic)).count() >= 3 {
                out.insert(part.to_owned());
            }
        }
    }
    (out.into_iter().collect(), whole)
}

/// The texts between a page's tags, trimmed (a label alone in its element).
fn text_nodes(page: &str) -> Vec<String> {
    page.split('<')
        .filter_map(|part| part.split_once('>').map(|(_, text)| unescaped(text).trim().to_owned()))
        .filter(|t| !t.is_empty())
        .collect()
}

fn unescaped(page: &str) -> String {
    page.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Links to pages of this server in a page (no exports' downloads twice, no
/// action), with ids made generic so each kind of page is visited twice at most.
fn links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with('/') && !href.starts_with("//") && !href.starts_with("/static/"))
        .map(|href| href.replace("&amp;", "&"))
        .collect()
}

fn shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/')
        .map(|seg| if seg.chars().any(|c| c.is_ascii_digit()) && seg.len() >= 8 { "{id}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn languages_every_page_of_every_role_is_wholly_in_japanese_and_in_korean() {
    for lang in [Lang::Ja, Lang::Ko] {
        let demo =
            safehouse::demo::build_in(Arc::new(safehouse::clock::SystemClock), Some(lang)).await.unwrap();
        let sessions = safehouse::sessions::SessionsAt::File(demo.root.join("data/sessions.db"));
        let state = safehouse::web::state(demo.vault.clone(), &sessions).await.unwrap();
        let server = safehouse::web::Application::bind("127.0.0.1:0".parse().unwrap(), state).await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        tokio::spawn(server.run_until(std::future::pending()));
        let words = lang.messages();
        let (english, labels) = english_fragments(words);
        let placeholder = |page: &str| {
            page.split('{').skip(1).find_map(|rest| {
                let name = rest.split('}').next().unwrap_or_default();
                (!name.is_empty()
                    && name.len() < 20
                    && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .then(|| name.to_owned())
            })
        };
        let mut visited_pages = 0;
        for user in &demo.users {
            let mut client = Client::new(&base);
            let code = oath_code(&user.totp_secret, time::OffsetDateTime::now_utc());
            let login = client
                .post_with(
                    "/login",
                    &[("username", &user.username), ("password", &user.password), ("code", &code)],
                    // The browser asks for English: the user's own language wins.
                    &[("sec-fetch-site", "same-origin"), ("accept-language", "en")],
                )
                .await;
            assert_eq!(login.status(), 303, "{} logs in", user.username);
            let mut queue = vec!["/".to_owned()];
            let mut seen_shapes: BTreeMap<String, usize> = BTreeMap::new();
            let mut seen = BTreeSet::new();
            while let Some(path) = queue.pop() {
                if !seen.insert(path.clone()) || path.starts_with("/logout") {
                    continue;
                }
                let count = seen_shapes.entry(shape(&path)).or_default();
                if *count >= 2 {
                    continue;
                }
                *count += 1;
                let response = client.get_with(&path, &[("accept-language", "en")]).await;
                let status = response.status();
                // A refusal (a link to a confirmation the server then
                // refuses, such as removing oneself) is a page in the
                // language too.
                assert!(!status.is_server_error(), "{} {path}: {status}", user.username);
                let html = response
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
                let body = response.text().await.unwrap();
                let where_ = format!("{} ({}) {path}", user.username, lang.code());
                if html {
                    assert_eq!(lang_of(&body), lang.code(), "{where_}");
                    visited_pages += 1;
                    queue.extend(links(&body));
                }
                let text = unescaped(&body);
                if let Some(found) = english.iter().find(|e| text.contains(e.as_str())) {
                    panic!("{where_}: English left on the page: {found:?}");
                }
                if let Some(found) =
                    text_nodes(&body).into_iter().find(|node| labels.contains(node)).filter(|_| html)
                {
                    panic!("{where_}: an English label on the page: {found:?}");
                }
                if let Some(name) = placeholder(&text).filter(|_| html) {
                    panic!("{where_}: an unfilled variable {{{name}}}");
                }
            }
        }
        assert!(visited_pages > 40, "the crawl reached only {visited_pages} pages");
        demo.remove();
    }
}
