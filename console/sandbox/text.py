"""Word pools for the sandbox world: creators, fans and what they say (tasteful, SFW)."""

from __future__ import annotations

CREATORS: tuple[tuple[str, str, str, str], ...] = (
    # (dashboard label, username, display name, country)
    ("Luna main", "lunarivers", "Luna Rivers 🌙", "US"),
    ("Mia fitness", "miamoves", "Mia Moves", "GB"),
    ("Sofia art", "sofia.sketches", "Sofia ✏️ Sketches", "ES"),
    ("Ivy cosplay", "ivy_cosplays", "Ivy", "CA"),
    ("Nora cooking", "noracooks", "Nora Cooks 🍝", "DE"),
)

# Creators past the first five (an agency's 25 accounts): a name and a niche each, so every
# tab, and every line of the account switcher, names a different creator.
_MORE_CREATORS = (
    ("Ava", "US"),
    ("Zoe", "GB"),
    ("Lila", "FR"),
    ("Emma", "NL"),
    ("Chloe", "AU"),
    ("Ruby", "IE"),
    ("Jade", "US"),
    ("Nina", "IT"),
    ("Cleo", "SE"),
    ("Tara", "NZ"),
    ("Maya", "US"),
    ("Elle", "CA"),
    ("Iris", "DE"),
    ("Skye", "US"),
    ("Vera", "PL"),
    ("Lexi", "US"),
    ("Rosa", "ES"),
    ("Gwen", "GB"),
    ("Kira", "JP"),
    ("Dana", "BR"),
)
_NICHES = ("yoga", "gaming", "travel", "music", "fashion", "dance", "beauty", "pets")


def creator(index: int) -> tuple[str, str, str, str]:
    """The ``index``-th creator of a world: (dashboard label, username, display name,
    country). The first five are :data:`CREATORS`; the rest are made up, all different."""
    if index < len(CREATORS):
        return CREATORS[index]
    rest = index - len(CREATORS)
    name, country = _MORE_CREATORS[rest % len(_MORE_CREATORS)]
    niche = _NICHES[rest % len(_NICHES)]
    round_ = rest // len(_MORE_CREATORS)
    tail = f"{round_ + 1}" if round_ else ""
    return (
        f"{name} {niche}{tail}",
        f"{name.lower()}{niche}{tail}",
        f"{name} {niche.title()}{tail}",
        country,
    )


FIRST_NAMES: tuple[str, ...] = (
    "Alex",
    "Ben",
    "Chris",
    "Dan",
    "Eli",
    "Frank",
    "Gabe",
    "Hugo",
    "Ian",
    "Jack",
    "Kai",
    "Leo",
    "Marco",
    "Nate",
    "Owen",
    "Pat",
    "Quinn",
    "Ray",
    "Sam",
    "Theo",
    "Umar",
    "Vic",
    "Will",
    "Xavi",
    "Yuri",
    "Zack",
    "Mateo",
    "Lucas",
    "Jonas",
    "Kenji",
    "Ravi",
    "Omar",
    "Piotr",
    "Sven",
    "Tomás",
    "André",
    "Björn",
    "Łukasz",
    "José",
    "Noah",
    "Liam",
    "Ethan",
    "Mason",
    "Logan",
)

NAME_SUFFIXES: tuple[str, ...] = (
    "",
    "",
    "",
    "",
    " 🔥",
    " ✨",
    " the Bold",
    " from Ohio",
    " 🎮",
    " (night shift)",
    " 💙",
    " Jr.",
)

USERNAME_TAILS: tuple[str, ...] = ("", "_", "x", "_official", "fan", "99", "_tx", "007", "_uk")

FAN_OPENERS: tuple[str, ...] = (
    "hey!",
    "hi 👋",
    "good morning ☀️",
    "hey you, how's your day going?",
    "just got off work, finally",
    "back again 😄",
    "hello from Berlin!",
    "you're up late too huh",
)

FAN_LINES: tuple[str, ...] = (
    "your last post made my whole week 😍",
    "how was the trip? you looked so happy in those photos",
    "what's your favourite coffee order? I'm a flat white guy",
    "did you ever finish that book you mentioned?",
    "ngl the new set is my favourite so far",
    "I tried the recipe you posted, total disaster 😂",
    "you have the best smile, just saying",
    "any plans for the weekend?",
    "do you take requests? I have an idea for a theme 👀",
    "thanks for replying last time, it meant a lot",
    "lol same",
    "haha",
    "😂😂😂",
    "❤️",
    "🔥🔥",
    "that outfit though 😳",
    "are you going to do a live stream soon?",
    "can I ask you something personal? what made you start creating?",
    "honestly you're the highlight of my day",
    "sorry I disappeared, work has been crazy",
    "is the bundle still available?",
    "just renewed, couldn't miss what's coming 😉",
    "what music are you into lately?",
    "you should visit Lisbon, you'd love it",
    "wait did you cut your hair? looks great",
    "good night 🌙",
    "miss talking to you",
    "would you ever do a Q&A?",
    "ok that made me laugh out loud on the train",
    "how do you stay so motivated every day?",
)

FAN_LONG_LINES: tuple[str, ...] = (
    "So I have to tell you about my day because it was honestly ridiculous. I missed my bus, "
    "spilled coffee on my shirt right before a meeting, and then my boss told me my project got "
    "approved?! Rollercoaster. Anyway I saw your post at lunch and it genuinely turned the whole "
    "thing around. Thank you for being you. What's been the best part of your week so far?",
    "I know you probably get a lot of messages so no pressure to answer, but I wanted to say I "
    "really appreciate how much effort you put into everything. The behind-the-scenes stuff is "
    "my favourite, it feels like we actually get to know the real you. Also, random question: "
    "cats or dogs? This is very important and will decide the future of our friendship 😄",
    "Okay long message incoming. I've been subscribed for a while now and I've never really said "
    "much, but your posts got me through a rough few months. I started going to the gym again "
    "because of your routines, lost 6 kg, and I feel way better. Just wanted you to know you're "
    "making a difference for people, even quiet ones like me.",
)

CREATOR_LINES: tuple[str, ...] = (
    "hey you 😘 how are you?",
    "aww thank you, that's so sweet",
    "haha you're too much 😂",
    "I'm good! just finished a shoot, exhausted but happy",
    "what are you up to tonight?",
    "thank you for the tip babe, you're amazing 💕",
    "omg yes, I'm planning something special for next week 👀",
    "I read every message, promise ❤️",
    "tell me more!",
    "that's hilarious, I needed that laugh today",
    "coffee first, always ☕",
    "I just posted something new, let me know what you think 😉",
    "you're the best, seriously",
    "good night! sweet dreams 🌙",
    "I love that idea, noting it down",
    "how was your day?",
    "sending you a little something special 🎁",
    "miss you too 💋",
)

PPV_CAPTIONS: tuple[str, ...] = (
    "a little preview of the new set 😇 unlock for the full thing",
    "behind the scenes from today's shoot 📸",
    "exclusive for you, don't share 🤫",
    "the bundle I promised 🎁",
)

TIP_MESSAGES: tuple[str, ...] = (
    "for a coffee ☕",
    "you deserve it",
    "",
    "keep being awesome",
    "happy birthday!! 🎂",
    "",
)

AUTOMATED: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("new_subscriber", "Welcome! So happy you're here 💕 say hi anytime!", {}),
    ("new_tip", "Thank you so much for the tip! You made my day ✨", {"tipAmount": 5}),
    (
        "subscriber_renew",
        "Three months together 🥳 thank you for sticking around!",
        {"subscriptionStreak": 3},
    ),
)

LISTS: tuple[str, ...] = ("VIP", "Big spenders", "Needs follow-up", "Regulars")

TIERS: tuple[tuple[str, str, int], ...] = (
    # (name, colour, price in thousandths of a dollar per 30 days)
    ("Sweet", "#FF6F61", 5000),
    ("Close Friends", "#8E44AD", 14990),
    ("Inner Circle", "#F1C40F", 29990),
)
