/** Domains with an instruction pool. */
export type InstructionDomain = "movies" | "books" | "anime";

export const INSTRUCTION_DOMAINS: readonly InstructionDomain[] = ["movies", "books", "anime"];

/**
 * Our own hand-written seed instructions (the seed's originals are not reused). Each asks for
 * recommendations with reasons and leaves the user's data to the input field.
 */
export const SEED_INSTRUCTIONS: Readonly<Record<InstructionDomain, readonly string[]>> = {
  movies: [
    "Recommend five movies this viewer is likely to enjoy, based on the films they rated highly, and explain each pick.",
    "Suggest movies for this user from the candidate list, ranking them by how well they match the user's taste.",
    "Given the viewer's profile and the films they liked and disliked, pick five films they should watch next and say why.",
    "Choose the movies from the list below that best fit this person's viewing history, with a one-sentence reason for each.",
    "Propose a short watchlist for this user that builds on the genres and directors they have enjoyed.",
    "Which of these candidate films would this moviegoer rate highest? List five and justify each choice.",
    "Help this user find their next favourite film: recommend titles similar to the ones they loved and unlike the ones they disliked.",
    "Act as a film critic who knows this viewer well and recommend five movies with a reason for each.",
    "Rank the candidate movies for this user and explain how each relates to films in their history.",
    "Point this viewer to five films they have not seen yet that match their preferences, explaining the connection.",
  ],
  books: [
    "Recommend five books this reader is likely to enjoy, based on the books they rated highly, and explain each pick.",
    "Suggest the next books this person should read, given the titles they loved, with a reason for each.",
    "Pick books from the candidate list that best match this reader's taste and justify every choice.",
    "Act as a librarian: propose five books for this reader that build on the authors and themes they liked.",
    "Which of these books would this reader rate highest? List five and explain why.",
    "Help this reader find new novels similar to their favourites, and say what connects each suggestion to their history.",
    "Create a short reading list for this person based on their past ratings, with one sentence per book on why it fits.",
    "Recommend books that share themes with the ones this reader enjoyed, avoiding titles they already know.",
  ],
  anime: [
    "Recommend five anime this viewer is likely to enjoy, based on the series they rated highest, and explain each pick.",
    "Suggest anime series or films for this fan that match the genres of their favourite titles, with a reason for each.",
    "Pick the anime from the candidate list that this viewer would most enjoy and justify every choice.",
    "Act as an anime expert and propose five titles this person should watch next, explaining the connection to their favourites.",
    "Which of these anime would this viewer rate highest? List five and say why.",
    "Help this fan discover new anime similar to the ones they loved, describing what each recommendation shares with their history.",
    "Create a watchlist of anime for this viewer based on the shows they rated ten out of ten, with one reason per title.",
    "Recommend anime that fit this viewer's taste in genre and format, avoiding titles they have already watched.",
  ],
};

/** Words that mark an instruction as belonging to its domain (any one suffices). */
export const DOMAIN_WORDS: Readonly<Record<InstructionDomain, readonly string[]>> = {
  movies: [
    "movie",
    "movies",
    "film",
    "films",
    "cinema",
    "watch",
    "watchlist",
    "viewer",
    "moviegoer",
    "director",
    "directors",
  ],
  books: [
    "book",
    "books",
    "read",
    "reader",
    "reading",
    "novel",
    "novels",
    "author",
    "authors",
    "librarian",
    "literature",
  ],
  anime: ["anime", "manga", "series", "watch", "watchlist", "viewer", "fan", "episodes", "studio"],
};
