use super::*;
use crate::commands::COMMANDS;

fn table() -> CommandTable {
    CommandTable::new(COMMANDS)
}

fn env(t: &CommandTable) -> Env<'_> {
    Env {
        table: t,
        all_channels_default: false,
    }
}

fn rules(t: &CommandTable, ops: &[&str]) -> Result<Rules, RuleError> {
    let e = env(t);
    let mut r = Rules::new(e);
    for op in ops {
        r.apply(op.as_bytes(), e)?;
    }
    Ok(r)
}

#[test]
fn describes_like_acl_list() {
    let t = table();
    let r = rules(&t, &[]).unwrap();
    assert_eq!(r.describe(env(&t)), "off resetchannels -@all");
    let r = rules(
        &t,
        &[
            "on",
            "~k*",
            "%R~r*",
            "&ch*",
            "+@hash",
            "-hset",
            "(+@list ~l*)",
        ],
    )
    .unwrap();
    assert_eq!(
        r.describe(env(&t)),
        "on ~k* %R~r* resetchannels &ch* -@all +@hash -hset (~l* resetchannels -@all +@list)"
    );
    let r = rules(&t, &["+@all", "-@dangerous", "allkeys", "allchannels"]).unwrap();
    assert_eq!(r.describe(env(&t)), "off ~* &* +@all -@dangerous");
    let r = rules(&t, &["+select|0", ">pw"]).unwrap();
    assert_eq!(
        r.describe(env(&t)),
        "off #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 resetchannels -@all +select|0"
    );
}

#[test]
fn rule_errors() {
    let t = table();
    assert_eq!(rules(&t, &["%X~a"]).unwrap_err(), RuleError::Syntax);
    assert_eq!(rules(&t, &["%~a"]).unwrap_err(), RuleError::Syntax);
    assert_eq!(
        rules(&t, &["+nosuch"]).unwrap_err(),
        RuleError::UnknownCommand
    );
    assert_eq!(
        rules(&t, &["+select|0|x"]).unwrap_err(),
        RuleError::UnknownCommand
    );
    assert_eq!(
        rules(&t, &["+config|get|x"]).unwrap_err(),
        RuleError::FirstArgOfSubcommand
    );
    assert_eq!(
        rules(&t, &["allkeys", "~a"]).unwrap_err(),
        RuleError::KeysAfterAll
    );
    assert_eq!(
        rules(&t, &["&*", "&a"]).unwrap_err(),
        RuleError::ChannelsAfterAll
    );
    assert_eq!(
        rules(&t, &["<nope"]).unwrap_err(),
        RuleError::NoSuchPassword
    );
    assert_eq!(rules(&t, &["#abc"]).unwrap_err(), RuleError::BadHash);
    assert_eq!(rules(&t, &["bogus"]).unwrap_err(), RuleError::Syntax);
}

#[test]
fn merges_selectors() {
    let args: Vec<&[u8]> = vec![b"on", b"(+get", b"~a)", b"(+set)"];
    let merged = merge_selector_args(&args).unwrap();
    assert_eq!(
        merged,
        vec![b"on".to_vec(), b"(+get ~a)".to_vec(), b"(+set)".to_vec()]
    );
    assert_eq!(merge_selector_args(&[b"x", b"(+get"]), Err(1));
}

#[test]
fn checks_keys_and_channels() {
    let t = table();
    let r = rules(&t, &["+@all", "%R~r*", "%W~w*", "&news.*"]).unwrap();
    let check = |argv: &[&[u8]]| {
        let mut owned = crate::protocol::OwnedArgs::default();
        for a in argv {
            owned.push(a);
        }
        let args = owned.args();
        let (spec, index) = t.lookup(argv[0]).unwrap();
        r.check(&Request {
            spec,
            index,
            args: &args,
        })
    };
    assert_eq!(check(&[b"get", b"r1"]), Ok(()));
    assert_eq!(check(&[b"get", b"w1"]), Err(Denial::Key(1)));
    assert_eq!(check(&[b"set", b"w1", b"v"]), Ok(()));
    assert_eq!(check(&[b"publish", b"news.a", b"m"]), Ok(()));
    assert_eq!(
        check(&[b"publish", b"other", b"m"]),
        Err(Denial::Channel(1))
    );
    assert_eq!(check(&[b"psubscribe", b"news.*"]), Ok(()));
    assert_eq!(check(&[b"psubscribe", b"news.a*"]), Err(Denial::Channel(1)));
}
