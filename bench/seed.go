package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// client seeds the database through the API, as a user would.
type client struct {
	base  string
	http  *http.Client
	token string
}

func (c *client) call(method, path string, body any, want int) (map[string]any, error) {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out, nil
}

func (c *client) login() error {
	creds := map[string]string{"email": adminEmail, "password": adminPassword}
	if _, err := c.call("POST", "/register", creds, http.StatusCreated); err != nil {
		return err
	}
	out, err := c.call("POST", "/login", creds, http.StatusOK)
	if err != nil {
		return err
	}
	c.token = out["access_token"].(string)
	return nil
}

// seeded is what the load targets pick from.
type seeded struct {
	storeIDs []int64
	itemIDs  []int64
	tagName  string // a tag carried by half the items of its store
}

func (c *client) seed() (seeded, error) {
	var s seeded
	for i := 1; i <= stores; i++ {
		store, err := c.call("POST", "/stores", map[string]any{"name": fmt.Sprintf("Store %d", i)}, http.StatusCreated)
		if err != nil {
			return s, err
		}
		storeID := int64(store["id"].(float64))
		s.storeIDs = append(s.storeIDs, storeID)
		var tagIDs []int64
		for _, name := range []string{fmt.Sprintf("sale-%d", i), fmt.Sprintf("new-%d", i)} {
			tag, err := c.call("POST", fmt.Sprintf("/stores/%d/tags", storeID), map[string]any{"name": name}, http.StatusCreated)
			if err != nil {
				return s, err
			}
			tagIDs = append(tagIDs, int64(tag["id"].(float64)))
		}
		for j := 1; j <= itemsPerStore; j++ {
			item, err := c.call("POST", "/items", map[string]any{
				"name": fmt.Sprintf("Item %d-%d", i, j), "price": float64(j) + 0.99, "store_id": storeID,
				"description": benchDescription,
			}, http.StatusCreated)
			if err != nil {
				return s, err
			}
			itemID := int64(item["id"].(float64))
			s.itemIDs = append(s.itemIDs, itemID)
			if j%2 == 0 {
				if _, err := c.call("POST", fmt.Sprintf("/items/%d/tags", itemID), map[string]any{"tag_ids": tagIDs}, http.StatusOK); err != nil {
					return s, err
				}
			}
		}
	}
	s.tagName = "sale-1"
	return s, nil
}
