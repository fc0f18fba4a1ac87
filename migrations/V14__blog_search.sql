-- Blog search that finds what readers type: tags and categories count, a
-- title counts most, and a misspelt word gets a suggestion. Additive to the
-- seed: one column, a rebuilt generated column, triggers and indexes.
--
-- posts.search_taxonomy: the names and slugs of the post's tags and of its
-- active category, as one text. A generated column may only read its own
-- row, so triggers on post_tags, tags and categories keep this copy current;
-- it is never written by the application. A change of tags rewrites the
-- post's row once per statement (transition tables), so saving a post with
-- five tags, or the demo data's 30,000 links, updates each post once.
ALTER TABLE posts ADD COLUMN search_taxonomy text NOT NULL DEFAULT '';

CREATE FUNCTION post_search_taxonomy(post uuid, category uuid) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT concat_ws(' ',
        (SELECT string_agg(t.name || ' ' || t.slug, ' ' ORDER BY t.name)
           FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = post),
        (SELECT c.name || ' ' || c.slug FROM categories c
          WHERE c.id = category AND coalesce(c.is_active, true)))
$$;

-- A new post has no tags yet; a new category (or none) changes the text.
CREATE FUNCTION posts_set_search_taxonomy() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_taxonomy := post_search_taxonomy(NEW.id, NEW.category_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER posts_set_search_taxonomy BEFORE INSERT OR UPDATE OF category_id ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_set_search_taxonomy();

CREATE FUNCTION post_tags_refresh_search_added() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts p SET search_taxonomy = post_search_taxonomy(p.id, p.category_id)
     WHERE p.id IN (SELECT DISTINCT post_id FROM added);
    RETURN NULL;
END
$$;
CREATE TRIGGER post_tags_refresh_search_added AFTER INSERT ON post_tags
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION post_tags_refresh_search_added();

-- A deleted post's links go by cascade: the update then finds no row.
CREATE FUNCTION post_tags_refresh_search_removed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts p SET search_taxonomy = post_search_taxonomy(p.id, p.category_id)
     WHERE p.id IN (SELECT DISTINCT post_id FROM removed);
    RETURN NULL;
END
$$;
CREATE TRIGGER post_tags_refresh_search_removed AFTER DELETE ON post_tags
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION post_tags_refresh_search_removed();

-- Renaming a tag or a category (or switching a category off) is rare and
-- rewrites the rows of its posts.
CREATE FUNCTION tags_refresh_search() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts p SET search_taxonomy = post_search_taxonomy(p.id, p.category_id)
     WHERE p.id IN (SELECT post_id FROM post_tags WHERE tag_id = NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER tags_refresh_search AFTER UPDATE OF name, slug ON tags
    FOR EACH ROW EXECUTE FUNCTION tags_refresh_search();

CREATE FUNCTION categories_refresh_search() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts p SET search_taxonomy = post_search_taxonomy(p.id, p.category_id)
     WHERE p.category_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER categories_refresh_search AFTER UPDATE OF name, slug, is_active ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_refresh_search();

UPDATE posts SET search_taxonomy = post_search_taxonomy(id, category_id);

-- posts.search_vector (V7) again, with the weights search ranks by: the
-- title A, tags and category B, the body (excerpt and content) C. Each
-- part is there twice: stemmed by 'english' ("databases" finds
-- "database") and as written by 'simple', because queries are prefix terms
-- and a stem is not always a prefix of the word being typed ("operat:*"
-- misses the stem "oper" of "Operations" but finds the word). Queries ask
-- both: to_tsquery('english', ...) || to_tsquery('simple', ...).
-- A generated column's expression cannot be changed in place before
-- PostgreSQL 17, so the column and its index are made anew.
CREATE FUNCTION search_document(body text, weight "char") RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, body) || to_tsvector('simple'::regconfig, body), weight)
$$;
ALTER TABLE posts DROP COLUMN search_vector;
ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    search_document(title, 'A')
    || search_document(search_taxonomy, 'B')
    || search_document(coalesce(excerpt, '') || ' ' || coalesce(content, ''), 'C')
) STORED;
CREATE INDEX posts_search_vector_idx ON posts USING gin (search_vector);

-- "Did you mean": the words of published titles most like a misspelt one.
-- A GiST trigram index hands out the titles nearest to a word (by word
-- similarity) without a threshold to tune, which a GIN one cannot. pg_trgm ships with the embedded server (and is a
-- trusted extension); an external server may lack it, which only leaves
-- search without suggestions, so a failure is a notice, as in V10.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX posts_title_trgm_idx ON posts USING gist (lower(title) gist_trgm_ops)
        WHERE status = 'published';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm was not created (%): search will not suggest other words', SQLERRM;
END
$$;
