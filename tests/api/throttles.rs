//! Hardening after the outside review (issue 10): throttles.

use safehouse::accounts::login::delay_after;
use safehouse::accounts::model::Role;

use crate::helpers::*;

/// A login form post from `address`, through a server that trusts loopback
/// as its proxy.
async fn login_from(
    base: &str,
    address: &str,
    username: &str,
    password: &str,
    code: &str,
) -> reqwest::Response {
    let mut c = Client::new(base);
    let headers = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", address)];
    c.post_with("/login", &[("username", username), ("password", password), ("code", code)], &headers).await
}

fn retry_after(response: &reqwest::Response) -> i64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn finding_01_parallel_logins_are_counted_before_the_work() {
    let t = spawn_app().await;
    let user = t.web_user("case.storm", Role::Caseworker).await;
    let base = t.behind_proxy().await;
    let wrong = t.wrong_code(&user.secret);

    // 40 at once, one account, one address: right password, wrong code.
    let mut storm = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (base, wrong) = (base.clone(), wrong.clone());
        storm.spawn(async move {
            login_from(&base, "198.51.100.7", "case.storm", PASSWORD, &wrong).await.status().as_u16()
        });
    }
    let statuses = storm.join_all().await;
    let processed = statuses.iter().filter(|s| **s == 200).count() as i64;
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(processed as usize + throttled, 40, "only failures and refusals: {statuses:?}");
    assert!(throttled >= 10, "{throttled} of 40 were refused: {statuses:?}");
    assert_eq!(t.app.select_ints("SELECT failures FROM login_throttle").await, vec![processed]);

    // The next attempt (from another address, whose own budget is whole)
    // waits exactly as long as after that many failures one by one.
    let next = login_from(&base, "198.51.100.8", "case.storm", PASSWORD, &wrong).await;
    assert_eq!(next.status(), 429);
    assert_eq!(retry_after(&next), delay_after(processed));
    assert!(delay_after(processed) > 0);
}
