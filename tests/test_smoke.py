def test_home_page_shows_search_box_and_categories(client, make_article):
    make_article(title="Printer offline", category="Printing and scanning")
    response = client.get("/")
    assert response.status_code == 200
    assert b'type="search"' in response.data
    assert b"Printing and scanning" in response.data
    assert b"1 article" in response.data
