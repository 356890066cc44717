//! What a simulated account writes and hears: captions by format, and the comments its posts
//! get with the answers it gives. The tests use [`FIXTURES`], whose texts are chosen to break
//! things (markup, emoji, accents, a caption that says "reel" on any format); the demo gives
//! each of its three businesses a voice of its own, so it reads like real accounts, and a
//! crowd of followers that fits it.

use super::audience::Crowd;

/// One account's texts, and its followers.
#[derive(Debug)]
pub struct Voice {
    /// Captions of feed posts (images, carousels, videos).
    pub feed: &'static [&'static str],
    pub reels: &'static [&'static str],
    pub stories: &'static [&'static str],
    /// Captions without a hashtag (an empty one means no caption), about one post in seven.
    pub plain: &'static [&'static str],
    /// (username, text) of people commenting.
    pub comments: &'static [(&'static str, &'static str)],
    /// What the account answers.
    pub answers: &'static [&'static str],
    /// Who follows it.
    pub crowd: Crowd,
}

impl Voice {
    /// The captions for a media product type (`FEED`, `REELS`, `STORY`).
    pub fn captions(&self, product: &str) -> &'static [&'static str] {
        match product {
            "REELS" => self.reels,
            "STORY" => self.stories,
            _ => self.feed,
        }
    }
}

const FIXTURE_CAPTIONS: &[&str] = &[
    "Fresh out of the oven this morning #sourdough #bakery #morning",
    "Behind the scenes 🎬 #bts #smallbusiness",
    "Weekend special: two for one! #deal #weekend #Bakery",
    "Thank you for 10k ❤️ #community #milestone",
    "<script>alert('caption')</script> is not how we \"bake\" & it's fine #security",
    "Tide's out, coffee's on ☕️ #coffee #harbour #morning",
    "New reel: how we fold croissants #croissant #howto #reels",
    "Zoë's favourite 🥐 — #café #Crème #unicode",
    "Rain again. #weather",
    "Quote of the day: 'Bake it till you make it' #motivation",
];

/// Texts that test escaping, Unicode and hashtag parsing, the same on every format.
pub static FIXTURES: Voice = Voice {
    feed: FIXTURE_CAPTIONS,
    reels: FIXTURE_CAPTIONS,
    stories: FIXTURE_CAPTIONS,
    plain: &["", "Just a quiet one today.", "Open until 6pm."],
    comments: &[
        ("maria.eats", "Are you open on Sunday?"),
        ("tom_b", "This looks amazing 😍😍"),
        ("lina.k", "How much is the sourdough loaf?"),
        ("foodie.ana", "Best croissants in town, no contest 🥐"),
        ("jb", "<b>bold?</b> <script>alert('hi')</script> just checking your site escapes this"),
        (
            "grandma.rose",
            "I came by on Tuesday with my grandson and we shared the cardamom buns, the staff were so kind and patient with him while he chose, and the coffee was just right. We will be back every week now, thank you for making our mornings better. Do you take orders for birthdays?",
        ),
        ("sam.r", "🔥🔥🔥"),
        ("k.yilmaz", "Do you have gluten-free options?"),
        ("petra", "Love the new colours in the shop"),
        ("li.wei", "Can I order for pick-up?"),
        ("deals4u_bot", "Get 10k followers FAST!!! visit cheap-followers dot example"),
        ("noor", "Where is this? 📍"),
        ("alex.m", "@petra we should go"),
        ("r.okafor", "Great shot"),
    ],
    answers: &[
        "Thank you so much! 🙏",
        "Yes, every day from 8 until 4 🙂",
        "Send us a message and we'll sort it out",
        "So glad you liked it!",
    ],
    crowd: Crowd {
        ages: [0.02, 0.2, 0.34, 0.22, 0.12, 0.07, 0.03],
        women: 0.58,
        // Names that test escaping and Unicode, as the captions do.
        places: &[
            ("Bristol, England", "GB", 0.3),
            ("St. John's, Newfoundland and Labrador", "CA", 0.1),
            ("Zürich, Zurich", "CH", 0.08),
            ("<b>Nowhere</b>, Ohio", "US", 0.05),
            ("São Paulo, São Paulo (state)", "BR", 0.04),
        ],
        busiest_utc_hour: 19,
    },
};

/// A neighbourhood bakery by a harbour: bread, buns, early mornings.
pub static BAKERY: Voice = Voice {
    feed: &[
        "The seeded rye is back, fresh out of the oven this morning #sourdough #bakery #harbourbakery",
        "Cardamom buns, still warm. Come early, they are gone by ten #cardamombuns #bakery #fika",
        "Saturday's bake list: sourdough, rye, focaccia and the first mince pies #sourdough #weekend",
        "Meet Ines, who lights the ovens at four every morning #meettheteam #bakery",
        "Our starter turns six this month and still gets fed twice a day #sourdough #starter",
        "Pumpkin and sage focaccia, this week only #focaccia #seasonal #bakery",
        "Rainy harbour, warm kitchen: soup and bread until three #harbour #lunch",
        "Twelve thousand of you! Free coffee with any loaf on Friday #community #thankyou",
        "Croissants, pain au chocolat and the almond ones everybody asks about #croissant #bakery",
        "Wholemeal, spelt and rye: this week's flours come from the mill up the valley #localflour #sourdough",
    ],
    reels: &[
        "How we shape a batard, in thirty seconds #sourdough #baking #reels",
        "Laminating croissant dough: 27 layers of butter #croissant #howto #reels",
        "Four in the morning at the bakery, sped up #behindthescenes #bakery #reels",
        "Scoring bread: five patterns to try at home #sourdough #breadscoring #reels",
        "Cardamom bun knots, step by step #cardamombuns #howto #reels",
    ],
    stories: &[
        "Sold out of rye today, sorry! Back tomorrow from eight",
        "Sunday buns: cinnamon or cardamom? Tell us",
        "Fresh focaccia just out of the oven",
        "Queue's short right now if you're nearby",
    ],
    plain: &["", "Open until four today.", "Closed on Monday for the holiday."],
    comments: &[
        ("maria.eats", "Are you open on Sunday?"),
        ("tom_b", "This looks amazing 😍"),
        ("lina.k", "How much is the sourdough loaf?"),
        ("foodie.ana", "Best croissants in town, no contest 🥐"),
        ("k.yilmaz", "Do you have gluten-free options?"),
        ("li.wei", "Can I order a cake for pick-up on Saturday?"),
        ("noor", "The rye is so good toasted"),
        ("alex.m", "@petra we should go on Saturday"),
        (
            "grandma.rose",
            "We shared the cardamom buns on Tuesday, the staff were so kind to my grandson. See you next week!",
        ),
        ("sam.r", "🔥🔥"),
    ],
    answers: &[
        "Thank you so much! 🙏",
        "Yes, every day from 8 until 4 🙂",
        "Send us a message and we'll sort it out",
        "So glad you liked it!",
    ],
    crowd: Crowd {
        ages: [0.01, 0.12, 0.27, 0.25, 0.17, 0.11, 0.07],
        women: 0.64,
        places: &[
            ("Falmouth, England", "GB", 0.34),
            ("Truro, England", "GB", 0.12),
            ("Penryn, England", "GB", 0.08),
            ("Penzance, England", "GB", 0.05),
            ("Plymouth, England", "GB", 0.05),
            ("London, England", "GB", 0.07),
            ("Bristol, England", "GB", 0.03),
            ("Exeter, England", "GB", 0.02),
            ("Dublin, Dublin", "IE", 0.012),
            ("Paris, Île-de-France", "FR", 0.008),
            ("New York, New York", "US", 0.006),
        ],
        busiest_utc_hour: 7,
    },
};

/// A dance and yoga studio that lives on Reels.
pub static STUDIO: Voice = Voice {
    feed: &[
        "New timetable for December: morning flow moves to 7:30 #yoga #timetable #tidalstudio",
        "Studio B after the refit: more light and a sprung floor #studio #dance",
        "Teacher spotlight: Kai leads Thursday's contemporary class #meettheteam #dance",
        "Five things to bring to your first class #beginners #yoga",
        "Workshop weekend: thank you to the sixty of you who came #workshop #community",
        "Winter showcase tickets are on sale, link in bio #showcase #dance",
        "Mats, blocks and straps are free to borrow, always #yoga #studio",
    ],
    reels: &[
        "A one-minute hip opener you can do at your desk #yoga #mobility #reels",
        "Friday choreography, the full run #dance #choreography #reels",
        "Beginner's flow, slowed down: follow along #yoga #beginners #reels",
        "Three breathing drills before a performance #breathwork #dance #reels",
        "Rehearsal for the winter showcase, behind the scenes #showcase #dance #reels",
        "Handstand progressions, week three #handstand #strength #reels",
        "Partner stretch for tight hamstrings #mobility #yoga #reels",
        "Heels class, last combo of the night #dance #heels #reels",
    ],
    stories: &[
        "Two spots left in tonight's 7 pm flow",
        "Kai is covering the 6 pm class today",
        "This week's studio playlist 🎶",
        "Doors open 15 minutes before class",
    ],
    plain: &["", "Studio closed on the 25th and 26th.", "See you on the mat."],
    comments: &[
        ("jess.moves", "Is the beginners class OK if I've never done yoga?"),
        ("d.alvarez", "Kai's class is the best part of my week"),
        ("ruthie", "What song is this? 🎶"),
        ("mo.dance", "Those transitions 🔥"),
        ("hanna.k", "Do you do drop-in classes?"),
        ("lee", "Tried this at my desk, my hips say thanks"),
        ("carla.b", "When do showcase tickets go on sale?"),
        ("tomasz", "Saved for later 🙌"),
        ("priya.s", "Any evening classes on Sundays?"),
    ],
    answers: &[
        "Absolutely, everyone starts somewhere 🙂",
        "Drop-ins are welcome, book on the website",
        "Thank you! See you in class",
        "Sending you the details in a message",
    ],
    crowd: Crowd {
        ages: [0.04, 0.31, 0.36, 0.16, 0.08, 0.04, 0.01],
        women: 0.71,
        places: &[
            ("London, England", "GB", 0.22),
            ("Manchester, England", "GB", 0.05),
            ("Birmingham, England", "GB", 0.03),
            ("Brighton, England", "GB", 0.03),
            ("New York, New York", "US", 0.04),
            ("Los Angeles, California", "US", 0.03),
            ("Toronto, Ontario", "CA", 0.015),
            ("Sydney, New South Wales", "AU", 0.02),
            ("Melbourne, Victoria", "AU", 0.015),
            ("Berlin, Berlin", "DE", 0.015),
            ("Madrid, Comunidad de Madrid", "ES", 0.012),
            ("Lisbon, Lisbon District", "PT", 0.01),
            ("Mumbai, Maharashtra", "IN", 0.012),
            ("São Paulo, São Paulo (state)", "BR", 0.012),
            ("Mexico City, Distrito Federal", "MX", 0.01),
            ("Dublin, Dublin", "IE", 0.01),
        ],
        busiest_utc_hour: 19,
    },
};

/// A small guesthouse by the sea.
pub static COVE: Voice = Voice {
    feed: &[
        "Morning fog over the cove, coffee on the terrace #quietcove #guesthouse #coast",
        "The blue room is free next weekend, with a sea view #guesthouse #weekendaway",
        "Low-tide walk to the lighthouse: forty minutes there and back #coastalwalk #coast",
        "Homemade granola and local yoghurt for breakfast #breakfast #guesthouse",
        "Winter rates from January: three nights for the price of two #winterbreak #coast",
        "Storm watching from the lounge tonight #storm #coast",
    ],
    reels: &[
        "A minute of waves from the garden #sea #slowliving #reels",
        "Room tour: the attic room under the eaves #roomtour #guesthouse #reels",
    ],
    stories: &["The fire is lit in the lounge", "Sunrise at 7:58 today", "Fresh scones at four"],
    plain: &["", "Fully booked this weekend, thank you!", "Back from a week off."],
    comments: &[
        ("sarah.travels", "Is the blue room free in March?"),
        ("ben.w", "We stayed last summer, such a peaceful place"),
        ("ol.ga", "Are dogs welcome?"),
        ("hikerjon", "That lighthouse walk is wonderful"),
        ("mia.p", "Dreamy 😍"),
    ],
    answers: &[
        "Thank you, we'd love to have you back!",
        "Yes, well-behaved dogs are welcome 🐕",
        "Send us a message with your dates",
    ],
    crowd: Crowd {
        ages: [0.0, 0.05, 0.2, 0.27, 0.23, 0.16, 0.09],
        women: 0.6,
        places: &[
            ("London, England", "GB", 0.18),
            ("Bristol, England", "GB", 0.08),
            ("St Ives, England", "GB", 0.06),
            ("Birmingham, England", "GB", 0.04),
            ("Oxford, England", "GB", 0.03),
            ("Cardiff, Wales", "GB", 0.03),
            ("Amsterdam, North Holland", "NL", 0.03),
            ("Hamburg, Hamburg", "DE", 0.02),
            ("Munich, Bavaria", "DE", 0.015),
        ],
        busiest_utc_hour: 20,
    },
};
